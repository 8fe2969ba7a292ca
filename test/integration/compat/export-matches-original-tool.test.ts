import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, expect } from 'vitest';

import { exportCapsule } from '../../../src/services/export.js';
import { dbTest } from '../../setup/database.js';
import { type CapsuleJson, fixturesDir, loadShop, readCapsuleJson } from '../export/helpers.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'export-conformance-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

dbTest('exports the same graph and rows as the original tool (shop fixture)', async ({ db }) => {
  const manifest = await loadShop(db);
  const out = join(dir, 'shop.json');
  const result = await exportCapsule({
    manifest,
    subject: { shop_id: 's1', customer_id: 'c1' },
    databaseUrl: db.url,
    out,
    sinceDays: 3650,
    redaction: 'safe',
  });
  const original = JSON.parse(await readFile(`${fixturesDir}capsule.json`, 'utf8')) as CapsuleJson;
  const ours = await readCapsuleJson(out);
  expect(ours.graph).toEqual(original.graph);
  expect(ours.tables).toEqual(original.tables);
  expect(Object.keys(ours.tables)).toEqual(['customers', 'orders', 'order_notes']);
  expect(ours).toMatchObject({
    schemaVersion: 1,
    app: 'shop',
    adapter: original.adapter,
    subject: original.subject,
    redaction: 'safe',
    window: { sinceDays: 3650 },
    source: { kind: 'postgres', databaseUrlEnv: 'SHOP_PROD_DATABASE_URL', exportedBy: 'replay-env' },
  });
  expect(result.rowCounts).toEqual({ customers: 2, orders: 3, order_notes: 2 });
  expect(result.graph).toEqual({ size: 2, reasons: { subject: 1, note_author: 1 } });
});
