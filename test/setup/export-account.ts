import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { ParsedManifest } from '../../src/manifest/index.js';
import { exportCapsule, type ExportResult } from '../../src/services/export.js';
import type { TestDatabase } from './database.js';

/**
 * Exports account `a1` (subject key `account_id`, the one-table manifests of the safety tests) from `db`
 * with safe redaction and a 180-day window, into `out` or a fresh temp `c.json`.
 */
export async function exportAccount(
  db: TestDatabase,
  manifest: ParsedManifest,
  out?: string,
): Promise<{ out: string; result: ExportResult }> {
  const path = out ?? join(await mkdtemp(join(tmpdir(), 'account-')), 'c.json');
  const result = await exportCapsule({
    manifest,
    subject: { account_id: 'a1' },
    databaseUrl: db.url,
    out: path,
    sinceDays: 180,
    redaction: 'safe',
  });
  return { out: path, result };
}
