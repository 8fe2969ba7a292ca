import type { CapsuleHeader } from '../capsule/index.js';
import {
  planSubjectRewrite,
  rewriteSubjectInValue,
  type SubjectRewrite,
} from '../capsule/rewrite-subject.js';
import { CapsuleError, UsageError } from '../errors.js';
import type { ParsedManifest, ParsedTable } from '../manifest/index.js';
import { parseSubjectRewrite } from '../manifest/index.js';
import type { DatabaseUrl } from '../postgres/database-url.js';
import { checkTargetBeforeConnect } from '../postgres/target.js';

export interface PrepareOptions {
  manifest: ParsedManifest;
  header: CapsuleHeader;
  /** The replay target; undefined only for --dry-run-sql (nothing is connected to). */
  databaseUrl: DatabaseUrl | undefined;
  /** `--rewrite-subject` as parsed pairs (subject key → new value). */
  rewriteSubject?: Record<string, string> | undefined;
  useLocalSubject?: boolean | undefined;
  allowUnsafeTarget?: boolean | undefined;
  env?: NodeJS.ProcessEnv;
}

export interface PreparedMaterialize {
  rewrite: SubjectRewrite;
  /** The subject after the rewrite. */
  subject: Record<string, string>;
  /**
   * Graph key rows the deletes run for: the capsule's graph and, after a rewrite, the rewritten graph
   * too, so the original subject's rows are removed as well (subject keys only, deduplicated).
   */
  graphKeys: Record<string, string>[];
  /** Manifest tables in load order. */
  tables: ParsedTable[];
}

/**
 * Everything decided before a database is touched: the capsule is for this app and these subject keys,
 * the rewrite is valid, the target is not production or the export source. Throws the matching
 * ReplayEnvError.
 */
export function prepareMaterialize(options: PrepareOptions): PreparedMaterialize {
  const { manifest, header } = options;
  if (header.app !== manifest.appId) {
    throw new CapsuleError(`capsule is for app ${header.app}, manifest is for ${manifest.appId}`, {
      code: 'capsule_wrong_app',
      hint: 'pass the manifest the capsule was exported with',
    });
  }
  const capsuleKeys = Object.keys(header.subject).sort();
  const manifestKeys = [...manifest.subjectKeys].sort();
  if (capsuleKeys.join(',') !== manifestKeys.join(',')) {
    throw new CapsuleError(
      `capsule subject keys (${capsuleKeys.join(', ')}) do not match the manifest's (${manifestKeys.join(', ')})`,
      { code: 'capsule_wrong_subject' },
    );
  }
  assertSafeTarget(options);
  const target = rewriteTarget(options);
  const rewrite = planSubjectRewrite(header.subject, target);
  const graphKeys = dedupe(
    [...header.graph, ...rewriteSubjectInValue(header.graph, rewrite)].map((entry) =>
      Object.fromEntries(manifest.subjectKeys.map((key) => [key, String(entry[key] ?? '')])),
    ),
  );
  return {
    rewrite,
    subject: rewriteSubjectInValue(header.subject, rewrite),
    graphKeys,
    tables: manifest.postgres.tables,
  };
}

function rewriteTarget(options: PrepareOptions): Record<string, string> {
  const explicit = options.rewriteSubject ?? {};
  if (!options.useLocalSubject) return explicit;
  if (Object.keys(explicit).length > 0) {
    throw new UsageError('pass either --use-local-subject or --rewrite-subject, not both');
  }
  if (!options.manifest.localSubject) {
    throw new UsageError(
      '--use-local-subject: the manifest has no localSubject',
      'add localSubject to the manifest',
    );
  }
  return parseSubjectRewrite(
    Object.entries(options.manifest.localSubject).map(([key, value]) => `${key}=${value}`),
    options.manifest.subjectKeys,
  );
}

function assertSafeTarget(options: PrepareOptions): void {
  if (!options.databaseUrl) return;
  checkTargetBeforeConnect(options.databaseUrl, {
    prodEnvVar: options.manifest.postgres.prodDatabaseUrlEnv,
    env: options.env ?? process.env,
    capsuleSource: options.header.source,
    allowUnsafeTarget: options.allowUnsafeTarget,
  });
}

function dedupe(rows: Record<string, string>[]): Record<string, string>[] {
  const seen = new Map<string, Record<string, string>>();
  for (const row of rows) seen.set(JSON.stringify(row), row);
  return [...seen.values()];
}
