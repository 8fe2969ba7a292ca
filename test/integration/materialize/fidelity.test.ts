import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { beforeAll, describe, expect } from 'vitest';

import { loadManifest, type ParsedManifest } from '../../../src/manifest/index.js';
import { exportCapsule } from '../../../src/services/export.js';
import { materialize } from '../../../src/services/materialize.js';
import { capsuleDir } from '../../setup/capsules.js';
import { repoRoot } from '../../setup/cli.js';
import { dbTest, ownership, type TestDatabase } from '../../setup/database.js';

/**
 * issue #14 "Done when": test/fixtures/fidelity (integer subject key, enum, domain, unowned sequences,
 * timestamp and tsvector triggers, a range-partitioned table with foreign keys, every table owned by the
 * non-superuser replay role) round-trips exactly, both strategies, twice, with a subject rewrite, and the
 * app's next insert succeeds.
 */
const fixture = join(repoRoot, 'test/fixtures/fidelity');
const tables = ['customer', 'film', 'payment'];
let manifest: ParsedManifest;
let schemaSql: string;
let seedSql: string;
let dir: string;

beforeAll(async () => {
  manifest = await loadManifest(join(fixture, 'manifest.yaml'));
  schemaSql = await readFile(join(fixture, 'schema.sql'), 'utf8');
  seedSql = await readFile(join(fixture, 'seed.sql'), 'utf8');
  dir = await capsuleDir();
});

/** Every column of every row of customer `id`'s history, as to_jsonb text with customer_id set to `as`. */
async function history(db: TestDatabase, id: number, as = id): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of tables) {
    const rows = await db.query<{ row: string }>(
      `select jsonb_set(to_jsonb(t), '{customer_id}', to_jsonb($2::int))::text as row
         from ${table} t where customer_id = $1 order by 1`,
      [id, as],
    );
    out[table] = rows.map((row) => row.row);
  }
  return out;
}

async function source(db: TestDatabase): Promise<string> {
  await db.query(schemaSql);
  await db.query(seedSql);
  const out = join(dir, `${db.name}.json`);
  await exportCapsule({
    manifest,
    subject: { customer_id: '1' },
    databaseUrl: db.url,
    out,
    sinceDays: 180,
    redaction: 'raw',
  });
  return out;
}

describe.each(['copy', 'jsonb'] as const)('fidelity fixture (%s)', (loadStrategy) => {
  dbTest(
    'round-trips exactly twice with an integer subject rewrite; triggers stay out; next insert works',
    async ({ db }) => {
      const capsule = await source(db);
      const expected = await history(db, 1, 9001);
      expect(expected.payment).toHaveLength(2);
      const target = await db.sibling();
      await target.query(schemaSql);
      const owner = await ownership(target, 'film');
      expect(owner).toEqual([{ super: false, owns: true }]);
      for (let round = 0; round < 2; round++) {
        const result = await materialize({
          manifest,
          capsulePath: capsule,
          databaseUrl: target.url,
          loadStrategy,
          rewriteSubject: { customer_id: '9001' },
        });
        expect(result.subject).toEqual({ customer_id: '9001' });
        expect(result.rewritten).toEqual({ customer: 1, film: 2, payment: 2 });
        expect(result.triggers.disabled).toEqual(['customer', 'film', 'payment']);
        expect(result.triggers.firing).toEqual([]);
        expect(result.verified).toBe(true);
        expect(await history(target, 9001)).toEqual(expected);
        expect(await history(target, 1)).toEqual({ customer: [], film: [], payment: [] });
      }
      // No trigger fired (the partition's audit trigger included), and every trigger is back on.
      expect(await target.query('select * from payment_audit')).toEqual([]);
      const off = await target.query(
        `select tgname from pg_trigger where not tgisinternal and tgenabled = 'D'`,
      );
      expect(off).toEqual([]);
      // The app's next inserts take ids past the loaded ones (sequences used by defaults, not owned).
      const [customer] = await target.query<{ customer_id: number }>(
        `insert into customer (first_name) values ('New') returning customer_id`,
      );
      expect(customer!.customer_id).toBe(9002);
      const [film] = await target.query<{ film_id: number }>(
        `insert into film (customer_id, title) values (9002, 'New film') returning film_id`,
      );
      expect(film!.film_id).toBe(3);
      await target.query(
        `insert into payment (customer_id, film_id, amount, payment_date) values (9002, 3, 1, '2024-01-02')`,
      );
    },
  );

  // PostgreSQL plans value verification's digest in parallel once a table is large (docs/performance.md):
  // here every query of the target database is made to, so the changed rows must be found by parallel
  // workers reading the load's uncommitted rows (test/integration/materialize/verify-parallel.test.ts
  // checks that such plans launch workers).
  dbTest.for(['as planned', 'parallel everywhere'])(
    '--keep-triggers: triggers change values, and value verification counts the rows (%s)',
    async (plans, { db }) => {
      const capsule = await source(db);
      const target = await db.sibling();
      await target.query(schemaSql);
      if (plans === 'parallel everywhere')
        for (const setting of ['parallel_setup_cost', 'parallel_tuple_cost', 'min_parallel_table_scan_size'])
          await target.query(`alter database ${target.name} set ${setting} = 0`);
      // customer without a deletePredicate: a reload replaces its row by primary key (an UPDATE).
      const upsertCustomers: ParsedManifest = {
        ...manifest,
        postgres: {
          ...manifest.postgres,
          tables: manifest.postgres.tables.map(({ deletePredicate, ...table }) =>
            table.name === 'customer' ? table : { ...table, deletePredicate },
          ),
        },
      };
      const load = () =>
        materialize({
          manifest: upsertCustomers,
          capsulePath: capsule,
          databaseUrl: target.url,
          loadStrategy,
          keepTriggers: true,
        });
      // First load (inserts): the tsvector trigger recomputes film 1's vector (production's used another
      // dictionary); film 2's is what the trigger computes anyway. The counts are right.
      const first = await load();
      expect(first.triggers).toEqual({ disabled: [], firing: ['customer', 'film', 'payment'] });
      expect(first.loaded).toEqual(first.rowCounts);
      expect(first.valueDifferences).toEqual({ film: 1 });
      expect(first.verified).toBe(false);
      expect(await target.query('select count(*)::int as n from payment_audit')).toEqual([{ n: 1 }]);
      // Reload: the customer row is updated, and its BEFORE UPDATE trigger stamps last_update = now().
      const second = await load();
      expect(second.valueDifferences).toEqual({ customer: 1, film: 1 });
      expect(second.verified).toBe(false);
      // Without the option the same reload restores the capsule's values exactly.
      const third = await materialize({
        manifest,
        capsulePath: capsule,
        databaseUrl: target.url,
        loadStrategy,
      });
      expect(third.valueDifferences).toEqual({});
      expect(third.verified).toBe(true);
      expect(await history(target, 1)).toEqual(await history(db, 1));
    },
  );
});
