import pg from 'pg';
import { expect } from 'vitest';

import type { Sql } from '../../../src/materialize/sql.js';
import {
  type Digest,
  DigestAccumulator,
  stagedKeysDigestSql,
  tableDigestSql,
} from '../../../src/materialize/value-digest.js';
import { readTables } from '../../../src/postgres/catalog.js';
import { dbTest } from '../../setup/database.js';

/**
 * Value verification's digest runs inside the load's transaction, after the load, and PostgreSQL plans
 * it in parallel once a table is large enough (a million-row bench load: two workers per big table, on
 * PostgreSQL 17 and 15; docs/performance.md). Parallel workers must see the transaction's own
 * uncommitted rows and a value changed in it. Here every query is made to plan in parallel (no setup
 * or tuple cost, no minimum table size), the plan is checked to have launched workers, and the
 * server's digest is compared with the one of the rows' `to_jsonb` text (what the client hashes).
 */
const parallelEverywhere = [
  'set local parallel_setup_cost = 0',
  'set local parallel_tuple_cost = 0',
  'set local min_parallel_table_scan_size = 0',
  'set local max_parallel_workers_per_gather = 2',
];

const schema = `create table item (id bigint primary key, name text, price numeric(12, 2), at timestamptz,
  tags text[], doc jsonb)`;
const rows = `insert into item select i, 'item "' || i || E'" \\\\ ü', i / 100.0,
  timestamptz '2026-01-01' + (i || ' seconds')::interval, array['a', 't' || i % 5],
  jsonb_build_object('n', i, 'nested', jsonb_build_object('ok', i % 2 = 0)) from generate_series(1, 20000) i`;

/** Workers launched by the plan of `sql` (EXPLAIN ANALYZE: the query runs). */
async function workersLaunched(client: pg.Client, sql: Sql): Promise<number> {
  const { rows: plan } = await client.query(`explain (analyze, format json) ${sql.text}`, sql.values);
  return [...JSON.stringify(plan).matchAll(/"Workers Launched":(\d+)/g)].reduce(
    (sum, match) => sum + Number(match[1]),
    0,
  );
}

async function serverDigest(client: pg.Client, sql: Sql): Promise<Digest> {
  const {
    rows: [row],
  } = await client.query<{ rows: string; sum: string }>(sql.text, sql.values);
  return { rows: Number(row!.rows), sum: row!.sum };
}

/** The digest of the rows' canonical text, as the client computes it from the capsule (serial scan). */
async function clientDigest(client: pg.Client, where = 'true'): Promise<Digest> {
  await client.query('set local max_parallel_workers_per_gather = 0');
  const { rows: texts } = await client.query<{ row: string }>(
    `select to_jsonb(t)::text as row from item t where ${where}`,
  );
  await client.query('set local max_parallel_workers_per_gather = 2');
  const accumulator = new DigestAccumulator();
  for (const { row } of texts) accumulator.add(row);
  return accumulator.digest();
}

dbTest(
  'the digest under a parallel plan sees the load’s uncommitted rows and a value changed in it',
  async ({ db }) => {
    await db.query(schema);
    const client = new pg.Client({ connectionString: db.url.connectionString() });
    await client.connect();
    try {
      // Workers must print timestamps in the transaction's UTC, not in the session's zone.
      await client.query(`set timezone = 'America/St_Johns'`);
      await client.query('begin');
      await client.query(rows);
      await client.query(`set local timezone = 'UTC'`);
      for (const setting of parallelEverywhere) await client.query(setting);
      const columns = (await readTables(client, ['item'])).get('item')!.columns;
      const whole = tableDigestSql('item', columns);
      expect(await workersLaunched(client, whole)).toBeGreaterThan(0);
      const loaded = await clientDigest(client);
      expect(loaded.rows).toBe(20000);
      expect(await serverDigest(client, whole)).toEqual(loaded);

      // A trigger-like change to one value of one row, in the same transaction: the digest differs.
      await client.query(`update item set price = price + 0.01 where id = 12345`);
      expect(await workersLaunched(client, whole)).toBeGreaterThan(0);
      const changed = await serverDigest(client, whole);
      expect(changed.rows).toBe(20000);
      expect(changed.sum).not.toBe(loaded.sum);
      expect(changed).toEqual(await clientDigest(client));

      // The digest of the rows with staged primary keys (a table that held rows before the load).
      await client.query(`create temp table replay_stage_0 (doc jsonb not null) on commit drop`);
      await client.query(
        `insert into replay_stage_0 select jsonb_build_object('id', i) from generate_series(10001, 20000) i`,
      );
      const staged = stagedKeysDigestSql('item', 0, ['id'], columns);
      expect(await workersLaunched(client, staged)).toBeGreaterThan(0);
      const stagedRows = await clientDigest(client, 'id > 10000');
      expect(stagedRows.rows).toBe(10000);
      expect(await serverDigest(client, staged)).toEqual(stagedRows);
      await client.query(`update item set name = name || ' ' where id = 15000`);
      const stagedChanged = await serverDigest(client, staged);
      expect(stagedChanged.sum).not.toBe(stagedRows.sum);
      expect(stagedChanged).toEqual(await clientDigest(client, 'id > 10000'));
      await client.query('rollback');
    } finally {
      await client.end();
    }
  },
);
