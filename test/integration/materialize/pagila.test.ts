import { beforeAll, describe, expect } from 'vitest';

import type { ParsedManifest } from '../../../src/manifest/index.js';
import { materialize } from '../../../src/services/materialize.js';
import { capsuleDir } from '../../setup/capsules.js';
import { dbTest, ownership, type TestDatabase } from '../../setup/database.js';
import { loadPagilaSchema, pagilaCustomerCapsule } from '../../setup/pagila.js';

/**
 * issue #14 on a schema nobody here wrote: Pagila (test/fixtures/pagila), with its BEFORE UPDATE
 * `last_update` triggers on every table and the tsvector trigger on film, loaded as the non-superuser
 * owner of the replay tables. The manifest is the one `init` drafts (no edits).
 */
let dir: string;
beforeAll(async () => {
  dir = await capsuleDir();
});

/** Every row of every capsule table, as to_jsonb text, sorted (a full dump of what the capsule covers). */
async function dump(db: TestDatabase, tables: readonly string[]): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of tables) {
    const rows = await db.query<{ r: string }>(`select to_jsonb(x)::text as r from ${table} x order by 1`);
    out[table] = rows.map((row) => row.r);
  }
  return out;
}

async function pagila(
  db: TestDatabase,
): Promise<{ manifest: ParsedManifest; capsule: string; target: TestDatabase }> {
  const { manifest, capsule } = await pagilaCustomerCapsule(db, dir);
  const target = await db.sibling();
  await loadPagilaSchema(target);
  return { manifest, capsule, target };
}

/** The source's rows with the primary keys the target holds (what the load must reproduce exactly). */
async function sourceRowsOf(
  source: TestDatabase,
  loaded: Record<string, string[]>,
): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const [table, rows] of Object.entries(loaded)) {
    const all = new Set(
      (await source.query<{ r: string }>(`select to_jsonb(x)::text as r from ${table} x`)).map(
        (row) => row.r,
      ),
    );
    out[table] = rows.filter((row) => all.has(row));
  }
  return out;
}

describe.each(['copy', 'jsonb'] as const)('Pagila customer 3 (%s)', (loadStrategy) => {
  dbTest(
    'loads twice as the owner: every value equals the source, no trigger fires, verified',
    async ({ db }) => {
      const { manifest, capsule, target } = await pagila(db);
      const [owner] = await ownership(target, 'film');
      expect(owner).toEqual({ super: false, owns: true });
      const tables = manifest.postgres.tableOrder;
      let first: Record<string, string[]> | undefined;
      for (let round = 0; round < 2; round++) {
        const result = await materialize({
          manifest,
          capsulePath: capsule,
          databaseUrl: target.url,
          loadStrategy,
        });
        expect(result.verified).toBe(true);
        // Into empty tables every table goes by direct COPY, its rows converted on the capsule's bytes
        // (json-to-copy-bytes.ts): film's tsvector, text[] and enum included; the values are checked below.
        if (loadStrategy === 'copy' && round === 0) expect(result.directCopy).toEqual(tables);
        expect(result.valueDifferences).toEqual({});
        expect(result.triggers.firing).toEqual([]);
        expect(result.triggers.disabled).toEqual(expect.arrayContaining(['film', 'customer', 'rental']));
        const loaded = await dump(target, tables);
        for (const table of tables) expect(loaded[table], table).toHaveLength(result.rowCounts[table]!);
        // Every loaded row, every column (last_update and film.fulltext included), is a source row.
        expect(await sourceRowsOf(db, loaded)).toEqual(loaded);
        if (first) expect(loaded).toEqual(first);
        first = loaded;
      }
      const off = await target.query(
        `select tgname from pg_trigger where not tgisinternal and tgenabled = 'D'`,
      );
      expect(off).toEqual([]);
    },
  );

  dbTest(
    '--keep-triggers: the reload fires last_update triggers and verification says which tables',
    async ({ db }) => {
      const { manifest, capsule, target } = await pagila(db);
      const load = (keepTriggers: boolean) =>
        materialize({ manifest, capsulePath: capsule, databaseUrl: target.url, loadStrategy, keepTriggers });
      expect((await load(true)).verified).toBe(true); // inserts only: no BEFORE UPDATE trigger fires
      const reload = await load(true);
      expect(reload.triggers.disabled).toEqual([]);
      expect(reload.verified).toBe(false);
      // Tables replaced by primary key (no deletePredicate) are updated, and their trigger stamps now().
      const stamped = await target.query<{ t: string }>(
        `select 'film' as t from film where last_update > now() - interval '1 hour' limit 1`,
      );
      expect(stamped).toHaveLength(1);
      expect(Object.keys(reload.valueDifferences)).toContain('film');
      for (const [table, rows] of Object.entries(reload.valueDifferences)) {
        const changed = await target.query<{ n: number }>(
          `select count(*)::int as n from ${table} where last_update > now() - interval '1 hour'`,
        );
        expect(changed[0]!.n, table).toBe(rows);
      }
      // Without the option the next reload restores the capsule's values.
      const restored = await load(false);
      expect(restored.verified).toBe(true);
      expect(await target.query(`select 1 from film where last_update > now() - interval '1 hour'`)).toEqual(
        [],
      );
    },
  );
});
