import { join } from 'node:path';

import { describe, expect } from 'vitest';

import { runDoctor } from '../../../src/services/doctor.js';
import { initManifest } from '../../../src/services/init.js';
import { exportLoadAndCheck } from '../../setup/closure-round-trip.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';
import { loadPagilaData, loadPagilaSchema } from '../../setup/pagila.js';
import { useTempDir } from '../../setup/temp-dir.js';

let dir: string;
useTempDir('init-pagila-', (path) => (dir = path));

const tables = [
  'customer',
  'rental',
  'payment',
  'inventory',
  'film',
  'language',
  'store',
  'staff',
  'address',
  'city',
  'country',
];

/** Loads the schema and data into `db` and the schema alone into a fresh sibling (the replay database). */
async function pagilaPair(db: TestDatabase): Promise<TestDatabase> {
  await loadPagilaSchema(db);
  await loadPagilaData(db);
  const replay = await db.sibling();
  await loadPagilaSchema(replay);
  return replay;
}

/** init (with `reference` or not) → doctor → export customer 3 → materialize → doctor --capsule. */
async function roundTrip(db: TestDatabase, replay: TestDatabase, reference: boolean) {
  const out = join(dir, 'pagila.yaml');
  const drafted = await initManifest({
    dbUrl: db.url.connectionString(),
    subjectTable: 'customer',
    out,
    ...(reference ? { reference } : {}),
  });
  expect(
    (await runDoctor({ app: out, dbUrl: replay.url.connectionString() })).checks.filter(
      (c) => c.status === 'fail',
    ),
  ).toEqual([]);
  const { exported } = await exportLoadAndCheck({
    db,
    replay,
    app: out,
    capsule: join(dir, 'c.json'),
    subject: { customer_id: '3' },
    sinceDays: 36500,
  });
  return { drafted, exported };
}

/** Every loaded row of `names` is a source row, as many as exported; nothing of another customer. */
async function expectLoadedRowsFromSource(
  db: TestDatabase,
  replay: TestDatabase,
  names: string[],
  rowCounts: Record<string, number>,
): Promise<void> {
  for (const table of names) {
    const source = (await db.query<{ r: string }>(`select to_jsonb(x)::text as r from ${table} x`)).map(
      (row) => row.r,
    );
    const loaded = (await replay.query<{ r: string }>(`select to_jsonb(x)::text as r from ${table} x`)).map(
      (row) => row.r,
    );
    expect(loaded.length, table).toBe(rowCounts[table]);
    for (const row of loaded) expect(source, table).toContain(row);
  }
  const others = await replay.query(
    `select 1 from rental where customer_id <> 3 union all select 1 from payment where customer_id <> 3 union all select 1 from customer where customer_id <> 3`,
  );
  expect(others).toEqual([]);
}

// Independent expectations: customer 3's rentals and payments, the inventory, films and staff they name.
const customer3 = `select
  (select count(*)::int from rental where customer_id = 3) as rental,
  (select count(*)::int from payment where customer_id = 3) as payment,
  (select count(distinct inventory_id)::int from rental where customer_id = 3) as inventory,
  (select count(distinct i.film_id)::int from rental r join inventory i using (inventory_id) where r.customer_id = 3) as film`;
const films3 = `select i.film_id from rental r join inventory i using (inventory_id) where r.customer_id = 3`;

describe('init on Pagila (a public sample schema)', () => {
  dbTest(
    'init → doctor → export → materialize: one customer, closed, equal to the source',
    async ({ db }) => {
      const replay = await pagilaPair(db);
      const { drafted, exported } = await roundTrip(db, replay, false);
      expect(
        drafted.reasoning.tables
          .filter((t) => t.role === 'owned')
          .map((t) => t.name)
          .sort(),
      ).toEqual(['payment', 'rental']);
      // payment's foreign keys are declared once per partition: one key each once resolved to the root
      expect(drafted.reasoning.graphEdges).toEqual([]);
      const [expected] = await db.query<Record<string, number>>(customer3);
      expect(exported.rowCounts).toMatchObject({ customer: 1, ...expected });
      await expectLoadedRowsFromSource(db, replay, tables, exported.rowCounts);
    },
  );

  dbTest(
    'init --reference: the actors and categories of the films rented come along, nothing of other customers',
    async ({ db }) => {
      const replay = await pagilaPair(db);
      const { drafted, exported } = await roundTrip(db, replay, true);
      const role = (name: string) => drafted.reasoning.tables.find((t) => t.name === name)?.role;
      expect([role('film_actor'), role('film_category'), role('actor'), role('category')]).toEqual([
        'reference',
        'reference',
        'parent',
        'parent',
      ]);
      expect(drafted.manifest).toMatchObject({ postgres: { closure: 'parents-and-reference' } });
      const [expected] = await db.query<Record<string, number>>(`select
        (select count(*)::int from film_actor where film_id in (${films3})) as film_actor,
        (select count(*)::int from film_category where film_id in (${films3})) as film_category,
        (select count(distinct actor_id)::int from film_actor where film_id in (${films3})) as actor,
        (select count(distinct category_id)::int from film_category where film_id in (${films3})) as category`);
      const [base] = await db.query<Record<string, number>>(customer3);
      expect(expected!.film_actor).toBeGreaterThan(0);
      // The fixture holds every actor and category: closure took only those of customer 3's films.
      expect(expected!.actor).toBeLessThan((await db.query('select 1 from actor')).length);
      expect(exported.rowCounts).toMatchObject({ customer: 1, ...base, ...expected });
      expect(exported.closureRows).toMatchObject(expected!);
      await expectLoadedRowsFromSource(
        db,
        replay,
        [...tables, 'film_actor', 'film_category', 'actor', 'category'],
        exported.rowCounts,
      );
    },
  );
});
