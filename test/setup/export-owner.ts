import { type ParsedManifest, parseManifest } from '../../src/manifest/index.js';
import { exportCapsule, type ExportOptions, type ExportResult } from '../../src/services/export.js';
import type { TestDatabase } from './database.js';

/**
 * Exports owner `me` (subject key `owner`, the closure tests' manifests) from `db` into `out`, without
 * redaction and with a one-day window; `extra` adds or overrides options (closure chunk size, path).
 */
export function exportOwner(
  db: TestDatabase,
  manifest: ParsedManifest,
  out: string,
  extra: Partial<ExportOptions> = {},
): Promise<ExportResult> {
  return exportCapsule({
    manifest,
    subject: { owner: 'me' },
    databaseUrl: db.url,
    out,
    sinceDays: 1,
    redaction: 'raw',
    ...extra,
  });
}

/** The manifest text of an app whose subject key is `owner` (the closure tests') with these `postgres` settings. */
export function ownerManifestText(appId: string, postgres: Record<string, unknown>): string {
  return JSON.stringify({ appId, adapter: 'postgres-subject-graph.v1', subjectKeys: ['owner'], postgres });
}

/** The same manifest, parsed. */
export function ownerManifest(appId: string, postgres: Record<string, unknown>): ParsedManifest {
  return parseManifest(ownerManifestText(appId, postgres), {
    file: 'm.json',
    path: '/tmp/m.json',
    cwd: '/tmp',
  });
}

/**
 * The closure tests' usual manifest: owner me's `kids`, and `parents` (each `where: false`: only the rows
 * closure brings), loaded parents first, under `closure: parents`.
 */
export function kidsAndParentsManifest(appId: string, parents: readonly string[]): ParsedManifest {
  return ownerManifest(appId, {
    closure: 'parents',
    tableOrder: [...parents, 'kids'],
    tables: [
      ...parents.map((name) => ({ name, where: 'false' })),
      { name: 'kids', where: 't.owner = (select owner from params)' },
    ],
  });
}
