import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pg from 'pg';
import { afterEach, beforeEach, expect } from 'vitest';

import type { ParsedManifest } from '../../../src/manifest/index.js';
import { exportCapsule } from '../../../src/services/export.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';
import { fixturesDir, loadShop } from '../export/helpers.js';

/**
 * SPEC §4: capsules replay-env writes (uncompressed) must load in the original Rust tool. The original is
 * not runnable here (no crates registry), so this test loads our capsule exactly the way its
 * `materialize-postgres` did: parse the whole file as one JSON value (serde_json: any valid JSON,
 * unknown keys ignored), check app/tables/subject, then one psql script — a temp `replay_graph` table
 * from the graph's subject keys, `delete … using replay_graph g where <deletePredicate>` in reverse table
 * order, and `insert into T select * from jsonb_populate_recordset(null::T, <rows>)` in table order.
 */
async function materializeLikeTheOriginal(
  target: TestDatabase,
  manifest: ParsedManifest,
  capsuleText: string,
): Promise<void> {
  const capsule = JSON.parse(capsuleText) as {
    app: string;
    subject: Record<string, unknown>;
    graph: Array<Record<string, unknown>>;
    tables: Record<string, unknown[]>;
  };
  expect(typeof capsule.app).toBe('string');
  expect(capsule.app).toBe(manifest.appId);
  expect(capsule.tables).toBeTypeOf('object');
  for (const key of manifest.subjectKeys) expect(capsule.subject).toHaveProperty(key);
  for (const table of Object.keys(capsule.tables)) expect(manifest.postgres.tableOrder).toContain(table);

  const keys = manifest.subjectKeys;
  const graphRows = capsule.graph.map((row) => Object.fromEntries(keys.map((key) => [key, row[key] ?? ''])));
  const literal = (value: unknown) => `'${JSON.stringify(value).replace(/'/g, "''")}'`;
  const script = [
    'begin;',
    `create temp table replay_graph (${keys.map((key) => `${key} text not null`).join(', ')}) on commit drop;`,
    `insert into replay_graph select * from jsonb_to_recordset(${literal(graphRows)}::jsonb) as g(${keys.map((key) => `${key} text`).join(', ')});`,
    ...[...manifest.postgres.tableOrder]
      .reverse()
      .filter((name) => name in capsule.tables)
      .map((name) => {
        const table = manifest.postgres.tables.find((candidate) => candidate.name === name)!;
        return `delete from ${name} t using replay_graph g where ${table.deletePredicate!.trim()};`;
      }),
    ...manifest.postgres.tableOrder
      .filter((name) => (capsule.tables[name] ?? []).length > 0)
      .map(
        (name) =>
          `insert into ${name} select * from jsonb_populate_recordset(null::${name}, ${literal(capsule.tables[name])}::jsonb);`,
      ),
    'commit;',
  ].join('\n');
  const client = new pg.Client({ connectionString: target.url.connectionString() });
  await client.connect();
  try {
    await client.query(script);
  } finally {
    await client.end();
  }
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'compat-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

dbTest('a capsule replay-env wrote loads the way the original tool loaded capsules', async ({ db }) => {
  const manifest = await loadShop(db);
  const out = join(dir, 'shop.json');
  await exportCapsule({
    manifest,
    subject: { shop_id: 's1', customer_id: 'c1' },
    databaseUrl: db.url,
    out,
    sinceDays: 3650,
    redaction: 'raw',
  });
  const target = await db.sibling();
  await target.query(await readFile(`${fixturesDir}schema.sql`, 'utf8'));
  await materializeLikeTheOriginal(target, manifest, await readFile(out, 'utf8'));

  // Every loaded row is, field for field, a row of the source.
  for (const table of ['customers', 'orders', 'order_notes']) {
    const loaded = await target.query<{ row: unknown }>(`select to_jsonb(t) as row from ${table} t`);
    expect(loaded.length).toBeGreaterThan(0);
    for (const { row } of loaded) {
      const same = await db.query(`select 1 from ${table} t where to_jsonb(t) = $1::jsonb`, [
        JSON.stringify(row),
      ]);
      expect(same, `${table} row ${JSON.stringify(row)}`).toHaveLength(1);
    }
  }
  const counts = await target.query<{ n: string }>(
    `select (select count(*) from customers) + (select count(*) from orders) + (select count(*) from order_notes) as n`,
  );
  expect(Number(counts[0]!.n)).toBe(7);
});
