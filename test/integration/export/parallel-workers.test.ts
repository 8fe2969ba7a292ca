import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect } from 'vitest';

import { explainExport, exportCapsule } from '../../../src/services/export.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';
import { manifestFrom, readCapsuleJson } from './helpers.js';

// Since the tenth session graph_keys carries no LIMIT, so the export's queries (and closure's) may run in
// parallel workers, which must read the transaction-local settings (replay.graph_keys, closure keys) as
// the leader does. Here the database forces every parallel-safe query into workers (debug_parallel_query,
// force_parallel_mode before PostgreSQL 16): the capsule's rows are those of a serial export, in order.
// Since the twenty-eighth session an export on two connections turns its queries' workers off
// (snapshot-peer.ts twoConnectionStatements): the workers are tested on one connection, as an export of
// one table or an encrypted one reads.
let dir: string;
let connections: string | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'export-parallel-'));
  connections = process.env.REPLAY_ENV_EXPORT_CONNECTIONS;
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
  if (connections === undefined) delete process.env.REPLAY_ENV_EXPORT_CONNECTIONS;
  else process.env.REPLAY_ENV_EXPORT_CONNECTIONS = connections;
});

/** Makes the database plan every parallel-safe query of new sessions in workers. */
async function forceParallelPlans(db: TestDatabase): Promise<void> {
  const [server] = await db.query<{ version: string }>(
    `select current_setting('server_version_num') as version`,
  );
  const force = Number(server!.version) >= 160000 ? 'debug_parallel_query' : 'force_parallel_mode';
  for (const setting of [
    `${force} = on`,
    'parallel_setup_cost = 0',
    'parallel_tuple_cost = 0',
    'min_parallel_table_scan_size = 0',
  ])
    await db.query(`alter database ${db.name} set ${setting}`);
}

const schema = `
  create table products (sku text primary key, title text not null);
  create table links (src text not null, dst text not null);
  create table orders (id bigint primary key, account_id text not null, sku text not null references products);
  insert into products select 'sku ' || i || case when i % 97 = 0 then repeat('K', 10240) else $$ q'"\\{},$$ end, 'p' || i
    from generate_series(1, 3000) i;
  insert into links select 'a1', 'a' || i from generate_series(2, 12) i;
  insert into orders select i, 'a' || (i % 40 + 1), (select sku from products order by sku offset (i * 37) % 3000 limit 1)
    from generate_series(1, 6000) i;
  analyze;
`;

const manifest = (closure: 'none' | 'parents') =>
  manifestFrom({
    appId: 'parallel',
    adapter: 'postgres-subject-graph.v1',
    subjectKeys: ['account_id'],
    postgres: {
      closure,
      graphEdges: [
        `select l.dst as account_id, 'linked'::text as reason from links l, params seed where l.src = seed.account_id`,
      ],
      tables: [
        { name: 'products', alias: 'p', where: closure === 'none' ? 'true' : 'false', orderBy: 'p.sku' },
        {
          name: 'orders',
          alias: 'o',
          where:
            'o.account_id in (select account_id from graph_keys) and (select count(*) from graph_keys) > 0',
          orderBy: 'o.id',
        },
      ],
    },
  });

async function exportRows(db: TestDatabase, closure: 'none' | 'parents', name: string) {
  const out = join(dir, `${name}.json`);
  await exportCapsule({
    manifest: manifest(closure),
    subject: { account_id: 'a1' },
    databaseUrl: db.url,
    out,
    sinceDays: 30,
    redaction: 'raw',
    ...(closure === 'parents' ? { closureChunkSize: 7 } : {}),
  });
  const capsule = await readCapsuleJson(out);
  return { graph: capsule.graph as unknown[], tables: capsule.tables as Record<string, unknown[]> };
}

describe('export with parallel workers forced', () => {
  dbTest(
    'on one connection: every row exactly once, in the manifest order, with and without closure',
    async ({ db }) => {
      await db.query(schema);
      const serial = {
        none: await exportRows(db, 'none', 'serial-none'),
        parents: await exportRows(db, 'parents', 'serial-parents'),
      };
      expect(serial.none.graph).toHaveLength(12);
      expect(serial.none.tables.orders).toHaveLength(12 * 150);
      await forceParallelPlans(db);
      process.env.REPLAY_ENV_EXPORT_CONNECTIONS = '1';
      // New sessions (the export's) do get parallel plans with workers.
      const plan = await db.query<{ 'QUERY PLAN': string }>(
        `explain (analyze, costs off) select count(*) from orders where account_id = 'a1'`,
      );
      expect(plan.map((row) => row['QUERY PLAN']).join('\n')).toMatch(/Workers Launched: [1-9]/);
      expect(await exportRows(db, 'none', 'parallel-none')).toEqual(serial.none);
      const parallel = await exportRows(db, 'parents', 'parallel-parents');
      expect(parallel.tables.orders).toEqual(serial.parents.tables.orders);
      // Closure's parents arrive chunk by chunk over two connections: the same rows, not always in one order.
      const sorted = (rows: unknown[] = []) => rows.map((row) => JSON.stringify(row)).sort();
      expect(sorted(parallel.tables.products)).toEqual(sorted(serial.parents.tables.products));
      expect(serial.parents.tables.products!.length).toBeGreaterThan(100);
    },
  );
});

describe('export on two connections', () => {
  // Each table's rows say how many workers its query could have: the table read ahead is on the other
  // connection (snapshot-peer.test.ts), so both connections are seen.
  const workersManifest = () =>
    manifestFrom({
      appId: 'workers',
      adapter: 'postgres-subject-graph.v1',
      subjectKeys: ['account_id'],
      postgres: {
        tables: ['products', 'orders'].map((name) => ({
          name,
          alias: 't',
          where: name === 'orders' ? 't.account_id = (select account_id from params)' : 'true',
          orderBy: name === 'orders' ? 't.id' : 't.sku',
          rowSql: `jsonb_build_object('workers', current_setting('max_parallel_workers_per_gather'), 'pid', pg_backend_pid())`,
        })),
      },
    });
  const exportWorkers = async (db: TestDatabase, name: string) => {
    const out = join(dir, `${name}.json`);
    await exportCapsule({
      manifest: workersManifest(),
      subject: { account_id: 'a1' },
      databaseUrl: db.url,
      out,
      sinceDays: 30,
      redaction: 'raw',
    });
    const tables = (await readCapsuleJson(out)).tables as Record<
      string,
      Array<{ workers: string; pid: number }>
    >;
    return [...tables.products!, ...tables.orders!];
  };

  dbTest('its queries get no parallel workers; on one connection they keep them', async ({ db }) => {
    await db.query(schema);
    await forceParallelPlans(db);
    await db.query(`alter database ${db.name} set max_parallel_workers_per_gather = 3`);
    const two = await exportWorkers(db, 'two');
    expect(two).toHaveLength(3000 + 150);
    expect(new Set(two.map((row) => row.pid)).size).toBe(2);
    expect(new Set(two.map((row) => row.workers))).toEqual(new Set(['0']));
    process.env.REPLAY_ENV_EXPORT_CONNECTIONS = '1';
    const one = await exportWorkers(db, 'one');
    expect(new Set(one.map((row) => row.pid)).size).toBe(1);
    expect(new Set(one.map((row) => row.workers))).toEqual(new Set(['3']));
    // --explain shows the plans of the export it stands for: no Gather on two connections, where the
    // database forces one on each table's query, which one connection keeps.
    const plans = async () =>
      (
        await explainExport({
          manifest: workersManifest(),
          subject: { account_id: 'a1' },
          databaseUrl: db.url,
          sinceDays: 30,
          redaction: 'raw',
        })
      ).tables.map((table) => table.plan);
    expect((await plans()).filter((plan) => /Gather/.test(plan))).toHaveLength(2);
    delete process.env.REPLAY_ENV_EXPORT_CONNECTIONS;
    expect((await plans()).filter((plan) => /Gather/.test(plan))).toHaveLength(0);
  });
});
