import { expect } from 'vitest';

import { loadManifest } from '../../src/manifest/index.js';
import { runDoctor } from '../../src/services/doctor.js';
import { exportCapsule, type ExportResult } from '../../src/services/export.js';
import { materialize } from '../../src/services/materialize.js';
import type { TestDatabase } from './database.js';

/**
 * The closure round trip the init tests share: export one subject from `db` with manifest `app` (raw),
 * materialize it into `replay`, and check `doctor --capsule` finds nothing failing (no dangling reference).
 */
export async function exportLoadAndCheck(options: {
  db: TestDatabase;
  replay: TestDatabase;
  app: string;
  capsule: string;
  subject: Record<string, string>;
  sinceDays: number;
  closureChunkSize?: number;
}): Promise<{ exported: ExportResult; doctorDetails: string }> {
  const manifest = await loadManifest(options.app);
  const exported = await exportCapsule({
    manifest,
    subject: options.subject,
    databaseUrl: options.db.url,
    out: options.capsule,
    sinceDays: options.sinceDays,
    redaction: 'raw',
    ...(options.closureChunkSize ? { closureChunkSize: options.closureChunkSize } : {}),
  });
  await materialize({ manifest, capsulePath: options.capsule, databaseUrl: options.replay.url });
  const checked = await runDoctor({
    app: options.app,
    dbUrl: options.replay.url.connectionString(),
    capsule: options.capsule,
  });
  expect(checked.checks.filter((check) => check.status === 'fail')).toEqual([]);
  return { exported, doctorDetails: checked.checks.map((check) => check.detail).join('\n') };
}
