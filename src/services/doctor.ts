import type pg from 'pg';

import { type CapsuleHeader, openCapsule } from '../capsule/index.js';
import { capsuleChecks } from '../doctor/capsule-checks.js';
import { type DoctorCheck, type DoctorSummary, fail, pass, summarize, uniqueIds } from '../doctor/check.js';
import { checkColumnReferences } from '../doctor/column-references.js';
import { explainChecks } from '../doctor/explain-checks.js';
import { foreignKeyOrderChecks } from '../doctor/foreign-key-order.js';
import { deletePredicateChecks, manifestChecks, manifestErrorChecks } from '../doctor/manifest-checks.js';
import { reloadBlockers } from '../doctor/reload-blockers.js';
import { referencedRelations, snippetScopes } from '../doctor/snippet-scopes.js';
import { tableChecks } from '../doctor/table-checks.js';
import { serverTargetCheck, targetChecks } from '../doctor/target-checks.js';
import { ManifestError } from '../errors.js';
import { loadManifest, type ParsedManifest } from '../manifest/index.js';
import { readForeignKeys, readTables } from '../postgres/catalog.js';
import { connect } from '../postgres/connect.js';
import type { DatabaseUrl } from '../postgres/database-url.js';
import { toDatabaseError } from '../postgres/errors.js';

export type { DoctorCheck, DoctorSummary } from '../doctor/check.js';

export interface DoctorOptions {
  /** Manifest path. */
  app: string;
  /** `--db-url`; else the manifest's replay env var, else its localDatabaseUrl. */
  dbUrl?: string | undefined;
  /** `--capsule`: also check this capsule against the manifest and the replay database. */
  capsule?: string | undefined;
  /** Warnings count as failures (`ok` false). */
  strict?: boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Called with each check as it is made (for live output). */
  onCheck?: (check: DoctorCheck) => void;
}

/** The `--json` result of doctor. */
export interface DoctorResult {
  /** No failures (and, with `--strict`, no warnings). */
  ok: boolean;
  checks: DoctorCheck[];
  summary: DoctorSummary;
}

/**
 * Tells whether a replay with this manifest (and replay database, and capsule) will work, and why not
 * (SPEC §2 `doctor`). Never throws for what it finds: a broken manifest, an unreachable or
 * production-looking database and bad SQL are `fail` checks. Nothing is written anywhere.
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorResult> {
  const checks: DoctorCheck[] = [];
  const add = (...found: DoctorCheck[]) => {
    for (const one of found) {
      checks.push(one);
      options.onCheck?.(one);
    }
  };
  const env = options.env ?? process.env;
  let manifest: ParsedManifest;
  try {
    manifest = await loadManifest(options.app, { cwd: options.cwd });
  } catch (error) {
    if (!(error instanceof ManifestError)) throw error;
    add(...manifestErrorChecks(error));
    return result(checks, options.strict);
  }
  add(...manifestChecks(manifest));

  const targetOptions = { dbUrl: options.dbUrl, env, capsuleSource: await capsuleSource(options.capsule) };
  const target = targetChecks(manifest, targetOptions);
  add(...target.checks);
  if (!target.url) {
    add(...deletePredicateChecks(manifest, undefined));
    if (options.capsule) add(...(await capsuleChecks({ manifest, capsule: options.capsule })));
    return result(checks, options.strict);
  }
  const client = await connectForDoctor(target.url, add);
  if (!client) {
    if (options.capsule) add(...(await capsuleChecks({ manifest, capsule: options.capsule })));
    return result(checks, options.strict);
  }
  try {
    const server = await serverTargetCheck(client, target.url, manifest, targetOptions);
    add(server);
    if (server.status === 'pass') await databaseChecks(client, manifest, target.url, options.capsule, add);
    else if (options.capsule) add(...(await capsuleChecks({ manifest, capsule: options.capsule })));
  } catch (error) {
    // The connection dropped or a catalog query failed half-way: report it as what it is, a failed check.
    add(fail('db.error', 'replay database', toDatabaseError(error, { action: 'replay database' }).message));
  } finally {
    await client.end().catch(() => {});
  }
  return result(checks, options.strict);
}

async function connectForDoctor(
  url: DatabaseUrl,
  add: (...checks: DoctorCheck[]) => void,
): Promise<pg.Client | undefined> {
  try {
    const client = await connect(url, {
      action: 'replay database',
      applicationName: 'replay-env doctor',
      connectTimeoutMs: 5_000,
    });
    const { rows } = await client.query<{ version: string }>(
      `select current_setting('server_version') as version`,
    );
    add(
      pass(
        'db.connect',
        'replay database',
        `connected to ${url.identity()} (PostgreSQL ${rows[0]?.version})`,
      ),
    );
    return client;
  } catch (error) {
    add(fail('db.connect', 'replay database', (error as Error).message));
    return undefined;
  }
}

async function databaseChecks(
  client: pg.Client,
  manifest: ParsedManifest,
  url: DatabaseUrl,
  capsule: string | undefined,
  add: (...checks: DoctorCheck[]) => void,
): Promise<void> {
  const scopes = snippetScopes(manifest);
  const declared = manifest.postgres.tableOrder;
  const catalog = await readTables(client, [...new Set([...declared, ...referencedRelations(scopes)])]);
  const tables = new Map([...catalog].filter(([name]) => declared.includes(name)));
  add(...tableChecks(manifest, tables, url.identity()));
  const foreignKeys = await readForeignKeys(client, [...tables.keys()]);
  add(
    ...deletePredicateChecks(
      manifest,
      new Map([...tables].map(([name, info]) => [name, info.primaryKey])),
      reloadBlockers(manifest, tables, foreignKeys),
    ),
  );
  const columns = checkColumnReferences(scopes, catalog);
  add(...columns.checks);
  const missingTables = new Set(declared.filter((name) => !tables.has(name)));
  add(...(await explainChecks(client, manifest, { skip: columns.failedLabels, missingTables })));
  add(...foreignKeyOrderChecks(declared, tables, foreignKeys));
  if (capsule)
    add(...(await capsuleChecks({ manifest, capsule, database: { client, tables, foreignKeys } })));
}

/** The `--capsule` header's recorded source (for the target guard); a bad capsule is capsuleChecks' to report. */
async function capsuleSource(path: string | undefined): Promise<CapsuleHeader['source'] | undefined> {
  if (!path) return undefined;
  try {
    return (await openCapsule(path)).header.source;
  } catch {
    return undefined;
  }
}

function result(checks: DoctorCheck[], strict = false): DoctorResult {
  const unique = uniqueIds(checks);
  const summary = summarize(unique);
  return { ok: summary.failed === 0 && (!strict || summary.warnings === 0), checks: unique, summary };
}
