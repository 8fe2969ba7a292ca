import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect } from 'vitest';

import { loadManifest } from '../../../src/manifest/index.js';
import { runDoctor } from '../../../src/services/doctor.js';
import { exportCapsule } from '../../../src/services/export.js';
import { initManifest } from '../../../src/services/init.js';
import { materialize } from '../../../src/services/materialize.js';
import { dbTest } from '../../setup/database.js';
import { loadPagilaData, loadPagilaSchema } from '../../setup/pagila.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'init-pagila-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

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

describe('init on Pagila (a public sample schema)', () => {
  dbTest(
    'init → doctor → export → materialize: one customer, closed, equal to the source',
    async ({ db }) => {
      await loadPagilaSchema(db);
      await loadPagilaData(db);
      const replay = await db.sibling();
      await loadPagilaSchema(replay);

      const out = join(dir, 'pagila.yaml');
      const drafted = await initManifest({ dbUrl: db.url.connectionString(), subjectTable: 'customer', out });
      expect(
        drafted.reasoning.tables
          .filter((t) => t.role === 'owned')
          .map((t) => t.name)
          .sort(),
      ).toEqual(['payment', 'rental']);
      // payment's foreign keys are declared once per partition: one key each once resolved to the root
      expect(drafted.reasoning.graphEdges).toEqual([]);
      expect(
        (await runDoctor({ app: out, dbUrl: replay.url.connectionString() })).checks.filter(
          (c) => c.status === 'fail',
        ),
      ).toEqual([]);

      const manifest = await loadManifest(out);
      const capsule = join(dir, 'c.json');
      const exported = await exportCapsule({
        manifest,
        subject: { customer_id: '3' },
        databaseUrl: db.url,
        out: capsule,
        sinceDays: 36500,
        redaction: 'raw',
      });
      await materialize({ manifest, capsulePath: capsule, databaseUrl: replay.url });
      const checked = await runDoctor({ app: out, dbUrl: replay.url.connectionString(), capsule });
      expect(checked.checks.filter((c) => c.status === 'fail')).toEqual([]);

      // Independent expectations: customer 3's rentals and payments, the inventory, films and staff they name.
      const [expected] = await db.query<Record<string, number>>(`select
      (select count(*)::int from rental where customer_id = 3) as rental,
      (select count(*)::int from payment where customer_id = 3) as payment,
      (select count(distinct inventory_id)::int from rental where customer_id = 3) as inventory,
      (select count(distinct i.film_id)::int from rental r join inventory i using (inventory_id) where r.customer_id = 3) as film`);
      expect(exported.rowCounts).toMatchObject({ customer: 1, ...expected });
      for (const table of tables) {
        const source = (await db.query<{ r: string }>(`select to_jsonb(x)::text as r from ${table} x`)).map(
          (row) => row.r,
        );
        const loaded = (
          await replay.query<{ r: string }>(`select to_jsonb(x)::text as r from ${table} x`)
        ).map((row) => row.r);
        expect(loaded.length, table).toBe(exported.rowCounts[table]);
        for (const row of loaded) expect(source, table).toContain(row);
      }
      const others = await replay.query(
        `select 1 from rental where customer_id <> 3 union all select 1 from payment where customer_id <> 3 union all select 1 from customer where customer_id <> 3`,
      );
      expect(others).toEqual([]);
    },
  );
});
