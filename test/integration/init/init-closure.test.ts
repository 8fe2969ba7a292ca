import { readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect } from 'vitest';

import { loadManifest } from '../../../src/manifest/index.js';
import { runDoctor } from '../../../src/services/doctor.js';
import { exportCapsule } from '../../../src/services/export.js';
import { initManifest } from '../../../src/services/init.js';
import { exportLoadAndCheck } from '../../setup/closure-round-trip.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';
import { useTempDir } from '../../setup/temp-dir.js';

const fixture = (name: string) => new URL(`../../fixtures/init/${name}`, import.meta.url);
let dir: string;
useTempDir('init-closure-', (path) => (dir = path));

async function loadFixture(db: TestDatabase, withData: boolean): Promise<void> {
  await db.query(await readFile(fixture('schema.sql'), 'utf8'));
  if (withData) await db.query(await readFile(fixture('data.sql'), 'utf8'));
}

/** Every row of every table, keyed by table, as to_jsonb text sorted (the comparison base). */
async function allRows(db: TestDatabase, tables: string[]): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of tables) {
    const rows = await db.query<{ row: string }>(`select to_jsonb(x)::text as row from ${table} x`);
    out[table] = rows.map((r) => r.row).sort();
  }
  return out;
}

/**
 * Customer 1's capsule, worked out by hand from data.sql: customer 2 is in the graph (they exchanged
 * messages); parents follow transitively (staff 12 → 11 → 10, categories 3 → 2 → 1, the stores ↔ staff
 * cycle, the composite plans key); nothing of customer 3 (store 3, region ap, staff 30, product 4, …).
 */
const expectedKeys: Record<string, string> = {
  customers: 'select id::text as k from customers where id in (1, 2)',
  staff: 'select id::text as k from staff where id in (10, 11, 12, 20, 21)',
  stores: 'select id::text as k from stores where id in (1, 2)',
  regions: `select code as k from regions where code in ('eu', 'us')`,
  categories: 'select id::text as k from categories',
  products: 'select id::text as k from products where id in (1, 2, 3)',
  plans: `select tier || version as k from plans where (tier, version) in (('basic', 2), ('pro', 1))`,
  orders: 'select id::text as k from orders where id in (1, 2, 3)',
  order_lines: 'select order_id || line_no::text as k from order_lines where order_id in (1, 2, 3)',
  messages: 'select id::text as k from messages where id in (1, 2)',
  subscriptions: 'select id::text as k from subscriptions where id in (1, 2)',
  audit_events: 'select id::text as k from audit_events where id in (1, 2)',
  product_reviews: 'select id::text as k from product_reviews where id in (1, 2)',
};

const customer1 = (db: TestDatabase, replay: TestDatabase, app: string) => ({
  db,
  replay,
  app,
  capsule: join(dir, 'c1.json'),
  subject: { customer_id: '1' },
  sinceDays: 180,
});

/**
 * The rows of `tables` in `replay` are exactly the source rows whose keys `expected` selects: byte for
 * byte the source's, nothing else (no other subject's row), none missing.
 */
async function expectExactly(
  db: TestDatabase,
  replay: TestDatabase,
  expected: Record<string, string>,
): Promise<void> {
  const tables = Object.keys(expected);
  const loaded = await allRows(replay, tables);
  for (const table of tables) {
    const rows = await db.query<{ row: string }>(
      `select to_jsonb(x)::text as row from ${table} x where (${keyOf[table]}) in (select k from (${expected[table]!}) as e)`,
    );
    expect(loaded[table], table).toEqual(rows.map((r) => r.row).sort());
  }
}

/** Each table's key as `expectedKeys` spells it, over the table's alias x. */
const keyOf: Record<string, string> = {
  regions: 'x.code',
  plans: 'x.tier || x.version',
  order_lines: 'x.order_id || x.line_no::text',
};
for (const table of Object.keys(expectedKeys)) keyOf[table] ??= 'x.id::text';
keyOf.product_notes = 'x.id::text';

describe('init → doctor → export (closure) → materialize, no hand edits', () => {
  dbTest('a fresh copy of the schema gets exactly customer 1’s rows, equal to the source', async ({ db }) => {
    await loadFixture(db, true);
    const replay = await db.sibling();
    await loadFixture(replay, false);
    const out = join(dir, 'shop.yaml');
    const drafted = await initManifest({ dbUrl: db.url.connectionString(), subjectTable: 'customers', out });
    expect(drafted.reasoning.unreachable.map((entry) => entry.table)).toEqual([
      'feature_flags',
      'product_notes',
    ]);
    expect(drafted.reasoning.tables.find((t) => t.name === 'audit_events')?.role).toBe('name-matched');
    expect(drafted.reasoning.graphEdges.map((edge) => edge.reason).sort()).toEqual([
      'messages_recipient_id',
      'messages_sender_id',
    ]);

    const doctor = await runDoctor({ app: out, dbUrl: replay.url.connectionString() });
    expect(doctor.checks.filter((check) => check.status === 'fail')).toEqual([]);

    const { exported, doctorDetails } = await exportLoadAndCheck({
      ...customer1(db, replay, out),
      closureChunkSize: 2,
    });
    expect(exported.closureRows).toMatchObject({ staff: 5, stores: 2, regions: 2, categories: 5, plans: 2 });
    expect(exported.closureRows?.customers).toBe(0);
    expect(doctorDetails).toMatch(/every reference resolves/);

    await expectExactly(db, replay, expectedKeys);
  });

  dbTest(
    'init --reference: notes on the products bought follow; reviews and events of others never',
    async ({ db }) => {
      await loadFixture(db, true);
      const replay = await db.sibling();
      await loadFixture(replay, false);
      const out = join(dir, 'shop.yaml');
      const drafted = await initManifest({
        dbUrl: db.url.connectionString(),
        subjectTable: 'customers',
        out,
        reference: true,
      });
      expect(drafted.reasoning.tables.find((t) => t.name === 'product_notes')?.role).toBe('reference');
      expect(drafted.reasoning.unreachable.map((entry) => entry.table)).toEqual(['feature_flags']);
      const { exported } = await exportLoadAndCheck({ ...customer1(db, replay, out), closureChunkSize: 1 });
      expect(exported.closureRows).toMatchObject({ product_notes: 3, product_reviews: 0, audit_events: 0 });
      // Products 1-3 were bought in customer 1's graph: their notes (not product 4's, nor its author staff 30).
      // Product 1 has customer 3's review and event: neither follows, nor does anything of customer 3.
      await expectExactly(db, replay, {
        ...expectedKeys,
        product_notes: 'select id::text as k from product_notes where id in (1, 2, 3)',
      });
    },
  );

  dbTest('a table’s own where and closure never write a row twice; self-references close', async ({ db }) => {
    await loadFixture(db, true);
    const out = join(dir, 'shop.yaml');
    await initManifest({ dbUrl: db.url.connectionString(), subjectTable: 'customers', out });
    const text = (await readFile(out, 'utf8')).replace(
      /(- name: categories\n\s+where: )"false"/,
      '$1t.id in (2, 3)',
    );
    const edited = join(dir, 'edited.yaml');
    await writeFile(edited, text);
    const capsule = join(dir, 'c3.json');
    const result = await exportCapsule({
      manifest: await loadManifest(edited),
      subject: { customer_id: '3' },
      databaseUrl: db.url,
      out: capsule,
      sinceDays: 180,
      redaction: 'safe',
    });
    // Customer 3 bought product 4 (category 5 → 4 → 1); the own where adds 2 and 3 (whose parent 1 is
    // already needed): 5 categories, each once.
    const rows = JSON.parse(await readFile(capsule, 'utf8')).tables as Record<string, Array<{ id: number }>>;
    expect(rows.categories!.map((row) => row.id).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(result.closureRows?.categories).toBe(3);
    expect(rows.customers!.map((row) => row.id)).toEqual([3]);
    // safe redaction: the drafted secret rules apply to closure rows too
    expect(JSON.stringify(rows)).not.toMatch(/hash-three|tok-3|flo@shop\.test/);
  });

  dbTest(
    'key sets spilled to disk (one key in memory) give the same capsule as in memory',
    async ({ db }) => {
      await loadFixture(db, true);
      const out = join(dir, 'shop.yaml');
      await initManifest({
        dbUrl: db.url.connectionString(),
        subjectTable: 'customers',
        out,
        reference: true,
      });
      const manifest = await loadManifest(out);
      const tablesOf = async (keysInMemory: number | undefined, file: string, closureDirect = true) => {
        const result = await exportCapsule({
          manifest,
          subject: { customer_id: '1' },
          databaseUrl: db.url,
          out: join(dir, file),
          sinceDays: 180,
          redaction: 'raw',
          closureChunkSize: 2,
          ...(keysInMemory ? { closureKeysInMemory: keysInMemory } : {}),
          closureDirect,
        });
        const tables = JSON.parse(await readFile(join(dir, file), 'utf8')).tables as Record<
          string,
          unknown[]
        >;
        const rows = Object.fromEntries(
          Object.entries(tables).map(([name, list]) => [name, list.map((row) => JSON.stringify(row)).sort()]),
        );
        return { rows, closureRows: result.closureRows };
      };
      const before = new Set(await readdir(tmpdir()));
      const inMemory = await tablesOf(undefined, 'memory.json');
      // Spilled with every parent's keys passed (none completed by one joining query): the same capsule.
      const spilled = await tablesOf(1, 'spilled.json', false);
      expect(spilled).toEqual(inMemory);
      expect(inMemory.rows.product_notes).toHaveLength(3);
      // the spill directory is gone once the export ends (this process's: other test files spill too)
      const left = (await readdir(tmpdir())).filter(
        (name) => name.startsWith(`replay-env-closure-${process.pid}-`) && !before.has(name),
      );
      expect(left).toEqual([]);
    },
  );
});
