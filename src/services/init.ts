import { access } from 'node:fs/promises';
import { extname, resolve } from 'node:path';

import { writeFileAtomically } from '../capsule/atomic-file.js';
import { UsageError } from '../errors.js';
import { closeClient } from '../export/close-client.js';
import { draftManifest, type InitDraft } from '../init/draft.js';
import { draftToManifest, renderManifestYaml } from '../init/render-yaml.js';
import { sampleCounts } from '../init/sample-counts.js';
import { readInitCatalog } from '../init/schema-catalog.js';
import { parseManifest } from '../manifest/index.js';
import { connect } from '../postgres/connect.js';
import { DatabaseUrl } from '../postgres/database-url.js';
import { toDatabaseError } from '../postgres/errors.js';
import { manifestTableName, tableNameProblem } from '../postgres/identifiers.js';

export interface InitOptions {
  dbUrl: string;
  subjectTable: string;
  subjectKeys?: string[];
  schema?: string;
  appId?: string;
  /** Write the YAML here (refused if the file exists); without it the YAML is only returned. */
  out?: string;
  /** Also draft reference tables and write `closure: parents-and-reference`. */
  reference?: boolean;
  /** `key=value` pairs: count each table's rows for this subject. */
  sampleSubject?: string[];
}

export interface InitResult {
  /** Absolute path written, when `out` was given. */
  out?: string;
  manifest: Record<string, unknown>;
  yaml: string;
  reasoning: Omit<InitDraft, 'tables'> & {
    tables: Array<{ name: string; role: string; notes: string[]; sampleRows?: number | null }>;
  };
}

/**
 * `replay-env init`: reads the catalog in a READ ONLY transaction and drafts a commented manifest
 * (init/draft.ts). The draft is parsed with the manifest loader before it is written, so what lands on
 * disk always loads.
 */
export async function initManifest(options: InitOptions): Promise<InitResult> {
  const schema = options.schema ?? 'public';
  // Schema and table are exact catalog names (`Sales Ops`, `Items`, `user`): the manifest can name any
  // table (postgres/identifiers.ts) bar control characters and comment markers. Keys stay plain.
  for (const name of [schema, options.subjectTable]) {
    const problem = tableNameProblem(manifestTableName(undefined, name));
    if (problem)
      throw new UsageError(`init: ${JSON.stringify(name)} cannot be named in a manifest: ${problem}`);
  }
  for (const name of options.subjectKeys ?? [])
    if (!isPlainIdentifier(name)) throw new UsageError(`init: "${name}" is not a plain SQL identifier`);
  const out = options.out === undefined ? undefined : resolve(options.out);
  // The draft is YAML with its reasoning as comments: under a .json name the loader reads it as JSON.
  if (out !== undefined && extname(out).toLowerCase() === '.json')
    throw new UsageError(
      `init: --out ${options.out}: init writes YAML (its reasoning as comments), not JSON`,
      'name the manifest .yaml or .yml',
    );
  if (out !== undefined && (await exists(out)))
    throw new UsageError(`init: ${out} exists`, 'init never overwrites a manifest; choose another --out');
  const url = DatabaseUrl.parse(options.dbUrl, '--db-url');
  const client = await connect(url, {
    action: 'init',
    applicationName: 'replay-env init',
    endWithClient: true,
  });
  let draft: InitDraft;
  let counts: Record<string, number | null> | undefined;
  try {
    try {
      await client.query('begin isolation level repeatable read, read only');
    } catch (error) {
      throw toDatabaseError(error, { url, action: 'init' });
    }
    const catalog = await readInitCatalog(client, url, schema);
    draft = draftManifest(catalog, {
      subjectTable: options.subjectTable,
      schema,
      ...(options.subjectKeys ? { subjectKeyColumns: options.subjectKeys } : {}),
      ...(options.appId ? { appId: options.appId } : {}),
      ...(options.reference ? { reference: true } : {}),
    });
    if (options.sampleSubject?.length) counts = await sampleCounts(client, url, draft, options.sampleSubject);
    await client.query('rollback').catch(() => {});
  } finally {
    await closeClient(client, false);
  }
  const yaml = renderManifestYaml(draft, counts);
  // What we write must load: a draft the loader rejects is a bug here, not a file for the user to fix.
  parseManifest(yaml, {
    file: out ?? 'init draft',
    path: out ?? resolve('init-draft.yaml'),
    cwd: process.cwd(),
  });
  if (out !== undefined) await writeFileAtomically(out, yaml);
  return {
    ...(out !== undefined ? { out } : {}),
    manifest: draftToManifest(draft),
    yaml,
    reasoning: {
      ...draft,
      tables: draft.tables.map((table) => ({
        name: table.name,
        role: table.role,
        notes: table.notes,
        ...(counts ? { sampleRows: counts[table.name] ?? null } : {}),
      })),
    },
  };
}

/** Subject key columns init accepts: plain SQL identifiers, as the manifest requires. */
function isPlainIdentifier(text: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(text) && text.length <= 63;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
