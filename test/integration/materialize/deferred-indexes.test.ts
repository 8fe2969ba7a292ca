import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import pg from 'pg';
import { beforeAll, describe, expect } from 'vitest';

import { openCapsule } from '../../../src/capsule/index.js';
import { loadManifest, type ParsedManifest } from '../../../src/manifest/index.js';
import { exportCapsule } from '../../../src/services/export.js';
import { materialize } from '../../../src/services/materialize.js';
import {
  capsuleDir,
  dumpTables,
  lineCapsuleText,
  shopCustomer,
  writeCapsuleFile,
} from '../../setup/capsules.js';
import { repoRoot } from '../../setup/cli.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';
import { indexCatalog, rebuilt } from '../../setup/index-catalog.js';
import { loadPagilaSchema, pagilaCustomerCapsule } from '../../setup/pagila.js';

/**
 * Deferred secondary-index builds (src/materialize/deferred-indexes.ts): a table copied straight into
 * while empty has its plain secondary indexes dropped and built again in the load's transaction. The
 * catalog must be exactly as before (definitions, names, comments, clustering, tablespaces, statistics
 * targets, dependents, constraints); only the rebuilt indexes' oids change, and a failed load changes
 * nothing at all, oids included.
 */
const fidelity = join(repoRoot, 'test/fixtures/fidelity');
const original = (name: string) => join(repoRoot, 'test/fixtures/original-tool', name);
let dir: string;
let fidelityManifest: ParsedManifest;
let fidelitySchema: string;
let fidelitySeed: string;

beforeAll(async () => {
  dir = await capsuleDir();
  fidelityManifest = await loadManifest(join(fidelity, 'manifest.yaml'));
  fidelitySchema = await readFile(join(fidelity, 'schema.sql'), 'utf8');
  fidelitySeed = await readFile(join(fidelity, 'seed.sql'), 'utf8');
});

/** Indexes of every kind on the fidelity schema; the comment says whether the load may defer each. */
const fidelityIndexes = `
  create index film_title_idx on film (title);                                            -- deferred
  create index "Film Pattern" on film (lower(title) text_pattern_ops desc nulls first)
    include (rating) with (fillfactor = 70) where release_year > 1950;                     -- deferred
  create index film_fulltext_idx on film using gin (fulltext);                             -- deferred
  create index film_features_idx on film using gin (special_features) with (fastupdate = off); -- deferred
  create unique index film_customer_title_key on film (customer_id, title);                -- unique: kept
  create index film_description_idx on film (description);                                -- comment: kept
  comment on index film_description_idx is 'what the description search uses';
  create index film_year_idx on film (release_year, (title || '!'));                      -- statistics: kept
  alter index film_year_idx alter column 2 set statistics 500;
  create index customer_email_idx on customer (email);                                    -- clustered: kept
  cluster customer using customer_email_idx;
  create index customer_name_idx on customer (first_name);                                 -- deferred
  create index payment_amount_idx on payment (amount);                                     -- partitioned: kept
`;
const fidelityDeferred = [
  'Film Pattern',
  'customer_name_idx',
  'film_features_idx',
  'film_fulltext_idx',
  'film_title_idx',
];

/** A query's plan (index scans forced) and its answer. */
async function throughIndex(db: TestDatabase, sql: string): Promise<{ plan: string; n: number }> {
  const client = new pg.Client({ connectionString: db.url.connectionString() });
  await client.connect();
  try {
    await client.query('set enable_seqscan = off');
    const plan = (await client.query<{ 'QUERY PLAN': string }>(`explain (costs off) ${sql}`)).rows
      .map((row) => row['QUERY PLAN'])
      .join('\n');
    const [row] = (await client.query<{ n: number }>(sql)).rows;
    return { plan, n: row!.n };
  } finally {
    await client.end();
  }
}

describe('deferred index builds leave the catalog exactly as before', () => {
  dbTest('fidelity fixture: every kind of index, a reload, a busy target, --keep-indexes', async ({ db }) => {
    await db.query(fidelitySchema);
    await db.query(fidelitySeed);
    const capsule = join(dir, `${db.name}.json`);
    await exportCapsule({
      manifest: fidelityManifest,
      subject: { customer_id: '1' },
      databaseUrl: db.url,
      out: capsule,
      sinceDays: 180,
      redaction: 'raw',
    });
    const events: string[] = [];
    const load = (target: TestDatabase, keepIndexes = false) =>
      materialize({
        manifest: fidelityManifest,
        capsulePath: capsule,
        databaseUrl: target.url,
        keepIndexes,
        onProgress: (event) => events.push(`${event.phase}:${event.table ?? ''}`),
      });

    const target = await db.sibling();
    await target.query(fidelitySchema);
    await target.query(fidelityIndexes);
    const before = await indexCatalog(target);
    const first = await load(target);
    expect(first.verified).toBe(true);
    expect(first.directCopy).toEqual(['customer', 'film', 'payment']);
    const after = await indexCatalog(target);
    expect(after.indexes).toEqual(before.indexes);
    expect(after.constraints).toEqual(before.constraints);
    expect(rebuilt(before.oids, after.oids)).toEqual(fidelityDeferred);
    // The builds are reported per table (payment's indexes are partitioned: none deferred).
    expect(events.filter((event) => event.startsWith('indexes:'))).toEqual([
      'indexes:customer',
      'indexes:film',
    ]);
    // The rebuilt indexes hold the loaded rows: read through them, they give the table's answer.
    expect(await throughIndex(target, `select count(*)::int as n from film where title >= ''`)).toEqual({
      plan: expect.stringContaining('Index Only Scan using film_title_idx on film') as unknown,
      n: 2,
    });
    expect(
      await throughIndex(target, `select count(*)::int as n from customer where first_name >= ''`),
    ).toEqual({ plan: expect.stringContaining('customer_name_idx') as unknown, n: 1 });

    // A reload deletes the graph's rows first: the tables are empty again, the same indexes deferred.
    expect((await load(target)).verified).toBe(true);
    const reloaded = await indexCatalog(target);
    expect(reloaded.indexes).toEqual(before.indexes);
    expect(rebuilt(after.oids, reloaded.oids)).toEqual(fidelityDeferred);

    // A target holding other rows (another customer's): upserted, nothing deferred.
    const busy = await db.sibling();
    await busy.query(fidelitySchema);
    await busy.query(fidelitySeed);
    await busy.query(`delete from payment where customer_id = 1; delete from film where customer_id = 1`);
    await busy.query(fidelityIndexes);
    const busyBefore = await indexCatalog(busy);
    expect((await load(busy)).verified).toBe(true);
    expect(await indexCatalog(busy)).toEqual(busyBefore);

    // --keep-indexes on an empty target: the same load, nothing rebuilt.
    const kept = await db.sibling();
    await kept.query(fidelitySchema);
    await kept.query(fidelityIndexes);
    const keptBefore = await indexCatalog(kept);
    expect((await load(kept, true)).verified).toBe(true);
    expect(await indexCatalog(kept)).toEqual(keptBefore);
  });
});

/**
 * The capsule's rows rewritten in load order. `closure: parents` (which `init` drafts for Pagila) writes
 * children before the parents found through them, and the direct path needs load order.
 */
async function inLoadOrder(path: string, order: readonly string[]): Promise<string> {
  const reader = await openCapsule(path);
  const tables: Record<string, string[]> = Object.fromEntries(order.map((name) => [name, []]));
  for await (const row of reader.rows()) tables[row.table]!.push(row.text);
  const { app, adapter, subject, graph } = reader.header;
  const text = lineCapsuleText({ app, adapter, subject, graph: graph as never, tables });
  return writeCapsuleFile(dir, 'load-order.json', text);
}

describe('deferred index builds on Pagila (a public schema)', () => {
  dbTest(
    'customer 3 into an empty Pagila: the catalog is as before, plain indexes rebuilt',
    async ({ db }) => {
      const { manifest, capsule } = await pagilaCustomerCapsule(db, dir);
      const target = await db.sibling();
      await loadPagilaSchema(target);
      const before = await indexCatalog(target);
      const capsulePath = await inLoadOrder(capsule, manifest.postgres.tableOrder);
      const result = await materialize({ manifest, capsulePath, databaseUrl: target.url });
      expect(result.verified).toBe(true);
      const after = await indexCatalog(target);
      expect(after.indexes).toEqual(before.indexes);
      expect(after.constraints).toEqual(before.constraints);
      const changed = rebuilt(before.oids, after.oids);
      // Every rebuilt index is a plain one of a table copied straight into.
      const direct = new Set(result.directCopy.map((table) => table.replace(/^public\./, '')));
      for (const name of changed) {
        const entry = after.indexes.find((index) => index.name === name)!;
        expect(direct.has(entry.table)).toBe(true);
        expect(entry.definition).toMatch(/^CREATE INDEX /);
      }
      // Pagila's plain indexes of the loaded tables, among them a gist one; never a unique index, a
      // primary key or a partition's index (payment is partitioned).
      expect(changed).toEqual(
        expect.arrayContaining(['film_fulltext_idx', 'idx_title', 'idx_fk_address_id']),
      );
      expect(changed.filter((name) => /pkey|unq|payment/.test(name))).toEqual([]);
    },
  );
});

/** Two indexes on orders (the original tool's schema) that the load defers. */
const orderIndexes = `
  create index orders_customer_idx on orders (shop_id, customer_id);
  create index orders_placed_idx on orders (placed_at desc) where total > 0;
`;

function order(id: number, placedAt = '2026-01-05T10:00:00+00:00'): Record<string, unknown> {
  return {
    id,
    shop_id: 's1',
    customer_id: 'c1',
    items: [{ sku: `S${id}` }],
    total: (id % 100) / 10,
    tags: ['t'],
    receipt: null,
    placed_at: placedAt,
    local_time: null,
  };
}

describe('a failed load leaves the indexes exactly as before (oids too)', () => {
  dbTest.for([
    [
      'a bad row in the middle of the COPY',
      {
        customers: [shopCustomer],
        orders: Array.from({ length: 3000 }, (_, i) => order(i + 1, i === 1500 ? 'not a time' : undefined)),
      },
      /orders.*invalid input syntax for type timestamp with time zone: "not a time" \(row 1501, column placed_at\)/,
    ],
    [
      'a foreign key violated by the next table, after the indexes were built again',
      {
        customers: [shopCustomer],
        orders: Array.from({ length: 3000 }, (_, i) => order(i + 1)),
        order_notes: [
          {
            id: 1,
            order_id: 999_999,
            shop_id: 's1',
            author_customer_id: 'c1',
            body: 'x',
            created_at: '2026-01-05T10:00:00+00:00',
          },
        ],
      },
      /order_notes.*violates foreign key constraint/,
    ],
  ] as const)('%s', async ([, tables, message], { db }) => {
    const manifest = await loadManifest(original('manifest.json'));
    await db.query(await readFile(original('schema.sql'), 'utf8'));
    await db.query(orderIndexes);
    const before = await indexCatalog(db);
    const rows = await dumpTables(db, ['customers', 'orders', 'order_notes']);
    const capsulePath = await writeCapsuleFile(
      dir,
      `${db.name}.json`,
      lineCapsuleText({ tables: tables as unknown as Record<string, Record<string, unknown>[]> }),
    );
    const phases: string[] = [];
    const error = await materialize({
      manifest,
      capsulePath,
      databaseUrl: db.url,
      onProgress: (event) => phases.push(event.phase),
    }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect((error as Error).message).toMatch(message);
    expect(await indexCatalog(db)).toEqual(before);
    expect(await dumpTables(db, ['customers', 'orders', 'order_notes'])).toEqual(rows);
    // And the next load succeeds and rebuilds them (the drop did not outlive the rollback).
    const good = await writeCapsuleFile(
      dir,
      `${db.name}-good.json`,
      lineCapsuleText({
        tables: { customers: [shopCustomer], orders: [order(1), order(2)], order_notes: [] },
      }),
    );
    expect((await materialize({ manifest, capsulePath: good, databaseUrl: db.url })).verified).toBe(true);
    const after = await indexCatalog(db);
    expect(after.indexes).toEqual(before.indexes);
    expect(rebuilt(before.oids, after.oids)).toEqual(['orders_customer_idx', 'orders_placed_idx']);
  });
});

describe('a direct load given up for the staging path', () => {
  dbTest('restores the dropped indexes before the staging path loads (oids unchanged)', async ({ db }) => {
    const manifest = await loadManifest(original('manifest.json'));
    await db.query(await readFile(original('schema.sql'), 'utf8'));
    await db.query(orderIndexes);
    const before = await indexCatalog(db);
    // Row 1501 has a key the first row lacks: the converter gives the table to the staging path only
    // after the indexes were dropped and 1,500 rows copied.
    const orders = Array.from({ length: 3000 }, (_, i) => {
      const { local_time: _skipped, ...row } = order(i + 1);
      return i === 1500 ? { ...row, local_time: '2026-01-05T10:00:00' } : row;
    });
    const capsulePath = await writeCapsuleFile(
      dir,
      `${db.name}.json`,
      lineCapsuleText({ tables: { customers: [shopCustomer], orders, order_notes: [] } }),
    );
    const result = await materialize({ manifest, capsulePath, databaseUrl: db.url });
    expect(result.verified).toBe(true);
    expect(result.directCopy).toEqual([]);
    expect(result.loaded.orders).toBe(3000);
    expect(await indexCatalog(db)).toEqual(before);
  });
});
