import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import pg from 'pg';
import { beforeAll, expect } from 'vitest';

import { loadManifest } from '../../../src/manifest/index.js';
import { materialize } from '../../../src/services/materialize.js';
import { capsuleDir, lineCapsuleText, shopCustomer, writeCapsuleFile } from '../../setup/capsules.js';
import { repoRoot } from '../../setup/cli.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';
import { indexCatalog, rebuilt } from '../../setup/index-catalog.js';

// Red team of the deferred index builds (src/materialize/deferred-indexes.ts): what the catalog holds
// about an index beyond pg_get_indexdef must come back too, or the index must stay in place; and the
// drop must not make the load wait for a session that merely holds the table open.

const original = (name: string) => join(repoRoot, 'test/fixtures/original-tool', name);
let dir: string;
beforeAll(async () => {
  dir = await capsuleDir();
});

const orders = Array.from({ length: 50 }, (_, i) => ({
  id: i + 1,
  shop_id: 's1',
  customer_id: 'c1',
  items: [{ sku: `S${i}` }],
  total: i / 10,
  tags: ['t'],
  receipt: null,
  placed_at: '2026-01-05T10:00:00+00:00',
  local_time: null,
}));

async function load(db: TestDatabase) {
  const capsulePath = await writeCapsuleFile(
    dir,
    `${db.name}.json`,
    lineCapsuleText({ tables: { customers: [shopCustomer], orders, order_notes: [] } }),
  );
  return materialize({
    manifest: await loadManifest(original('manifest.json')),
    capsulePath,
    databaseUrl: db.url,
  });
}

/** Every pg_depend row of the schema's indexes, by index name (oids of the index itself left out). */
async function indexDependencies(db: TestDatabase): Promise<string[]> {
  const rows = await db.query<{ d: string }>(
    `select c.relname || ' ' || d.deptype::text || ' ' || d.refclassid::regclass::text || ' ' ||
            coalesce(pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid), '') as d
       from pg_depend d join pg_class c on c.oid = d.objid and d.classid = 'pg_class'::regclass
      where c.relkind = 'i' and c.relnamespace = 'public'::regnamespace
      order by 1`,
  );
  return rows.map((row) => row.d);
}

dbTest('an index marked DEPENDS ON EXTENSION keeps that dependency', async ({ db }) => {
  await db.query(await readFile(original('schema.sql'), 'utf8'));
  await db.query(`
    create index orders_placed_idx on orders (placed_at);
    create index orders_total_idx on orders (total);
    alter index orders_total_idx depends on extension plpgsql;
  `);
  const before = await indexCatalog(db);
  const dependencies = await indexDependencies(db);
  expect(dependencies.some((line) => line.startsWith('orders_total_idx x'))).toBe(true);
  expect((await load(db)).verified).toBe(true);
  expect(await indexDependencies(db)).toEqual(dependencies);
  const after = await indexCatalog(db);
  expect(after.indexes).toEqual(before.indexes);
  expect(rebuilt(before.oids, after.oids)).toEqual(['orders_placed_idx']);
});

dbTest(
  'a session holding the table open does not make the load wait (indexes left in place)',
  async ({ db }) => {
    await db.query(await readFile(original('schema.sql'), 'utf8'));
    await db.query(`create index orders_placed_idx on orders (placed_at)`);
    const before = await indexCatalog(db);
    // An open transaction that read the table (a psql session, an app's pool): ACCESS SHARE until it ends.
    const reader = new pg.Client({ connectionString: db.url.connectionString() });
    await reader.connect();
    await reader.query('begin');
    await reader.query('select count(*) from orders');
    const loading = load(db);
    try {
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<'waited'>(
        (resolve) => (timer = setTimeout(() => resolve('waited'), 15_000)),
      );
      const result = await Promise.race([loading, waited]);
      clearTimeout(timer);
      expect(result).not.toBe('waited');
      expect(result !== 'waited' && result.verified).toBe(true);
    } finally {
      await reader.query('rollback');
      await reader.end();
      await loading.catch(() => {});
    }
    expect(await indexCatalog(db)).toEqual(before);
  },
  60_000,
);
