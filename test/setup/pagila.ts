import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import pg from 'pg';
import copyStreams from 'pg-copy-streams';

import { loadManifest, type ParsedManifest } from '../../src/manifest/index.js';
import { exportCapsule } from '../../src/services/export.js';
import { initManifest } from '../../src/services/init.js';
import type { TestDatabase } from './database.js';

/** A file of test/fixtures/pagila (Pagila, a public sample schema; see its README). */
export function pagilaFixture(name: string): Promise<string> {
  return readFile(new URL(`../fixtures/pagila/${name}`, import.meta.url), 'utf8');
}

/** Creates Pagila's schema in `db` (as the test role, which then owns every table). */
export async function loadPagilaSchema(db: TestDatabase): Promise<void> {
  await db.query(await pagilaFixture('schema.sql'));
}

/** Runs data.sql's `COPY public.t FROM stdin; … \.` blocks through COPY FROM STDIN. */
export async function loadPagilaData(db: TestDatabase): Promise<void> {
  const client = new pg.Client({ connectionString: db.url.connectionString() });
  await client.connect();
  try {
    const blocks = (await pagilaFixture('data.sql')).matchAll(
      /^(COPY [^\n]+ FROM stdin);\n([\s\S]*?)^\\\.$/gm,
    );
    for (const [, statement, rows] of blocks)
      await pipeline(Readable.from([rows!]), client.query(copyStreams.from(statement!)));
  } finally {
    await client.end();
  }
}

/**
 * Pagila with its data in `db`, the manifest `init` drafts for it (no edits; subject table customer),
 * and one customer's capsule exported from it with raw redaction, written under `dir`.
 */
export async function pagilaCustomerCapsule(
  db: TestDatabase,
  dir: string,
  customerId = '3',
): Promise<{ manifest: ParsedManifest; capsule: string }> {
  await loadPagilaSchema(db);
  await loadPagilaData(db);
  const path = join(dir, `${db.name}.yaml`);
  await initManifest({ dbUrl: db.url.connectionString(), subjectTable: 'customer', out: path });
  const manifest = await loadManifest(path);
  const capsule = join(dir, `${db.name}.json`);
  await exportCapsule({
    manifest,
    subject: { customer_id: customerId },
    databaseUrl: db.url,
    out: capsule,
    sinceDays: 36500,
    redaction: 'raw',
  });
  return { manifest, capsule };
}
