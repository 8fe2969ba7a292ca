#!/usr/bin/env node
// What deferred secondary-index builds save the server (docs/materialize.md "Deferred index builds"), in
// CPU seconds as well as wall time: the bench workloads' seeded rows (native COPY text, dumped once)
// copied into their indexed schema in one transaction per pass, alternately
//   keep:  COPY with every index in place (raw COPY FROM, as bench/run.js's baseline), and
//   defer: drop the indexes materialize defers (src/materialize/deferred-indexes.ts), COPY, create them,
// optionally also
//   defer+mem: the same with `maintenance_work_mem` raised for the builds (--mem 256MB).
// CPU is the loading backend's plus its parallel workers' (reaped by the postmaster: its children's CPU),
// from /proc, so it needs the embedded server this script starts on this machine.
//
//   npm run build && node bench/index-builds.js --rows 1000000 --passes 3 [--workloads simple,realistic,scattered] [--mem 256MB]
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';

import pg from 'pg';
import copyStreams from 'pg-copy-streams';

import { dropDeferrableIndexes } from '../dist/materialize/deferred-indexes.js';
import { startEmbeddedPostgres } from '../dist/postgres/embedded.js';
import { cpuOf, postmasterPid } from './server-cpu.js';
import { benchServerSettings } from './server-settings.js';
import { realistic } from './workloads/realistic.js';
import { simple } from './workloads/simple.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    passes: { type: 'string', default: '3' },
    workloads: { type: 'string', default: 'simple,realistic' },
    mem: { type: 'string' },
  },
});
/**
 * Secondary indexes whose keys are scattered (a random text, a uuid) and GIN indexes (an array, jsonb),
 * unlike the bench workloads' indexes on columns that hold few distinct values within one subject.
 */
const scattered = {
  tables: ['contacts'],
  schema: `create table contacts (id bigint primary key, email text not null, ref uuid not null,
    tags text[] not null, doc jsonb not null, seen_at timestamptz not null);
  create index on contacts (email); create index on contacts (ref);
  create index on contacts using gin (tags); create index on contacts using gin (doc jsonb_path_ops);`,
  async seed(client, n) {
    await client.query(this.schema);
    await client.query(
      `insert into contacts select i, md5(i::text) || '@example.test', md5('r' || i)::uuid,
         array['t' || (i % 97), 't' || (i % 13)], jsonb_build_object('k', i % 1000, 'name', md5(i::text)),
         now() - i * interval '1 second' from generate_series(1, $1) i`,
      [n],
    );
  },
};
const workloads = { simple, realistic, scattered };
const server = await startEmbeddedPostgres({
  settings: benchServerSettings,
});
const postmaster = await postmasterPid(server.dataDir);

async function connect(database) {
  const client = new pg.Client({
    connectionString: server.adminUrl.withDatabase(database).connectionString(),
  });
  await client.connect();
  return client;
}

/** One pass: every table's rows copied in, in one transaction; returns wall and CPU seconds. */
async function load(client, tables, dumps, mode) {
  await client.query(`truncate ${tables.join(', ')}`);
  await client.query('checkpoint');
  const backend = (await client.query('select pg_backend_pid() as pid')).rows[0].pid;
  const [before, reaped] = [await cpuOf(backend), await cpuOf(postmaster)];
  const start = process.hrtime.bigint();
  await client.query('begin');
  if (mode === 'defer+mem') await client.query(`set local maintenance_work_mem = '${args.mem}'`);
  const run = (sql) => client.query(sql.text, sql.values);
  for (const table of tables) {
    const dropped = mode === 'keep' ? undefined : await dropDeferrableIndexes(table, run);
    await pipeline(Readable.from([dumps[table]]), client.query(copyStreams.from(`copy ${table} from stdin`)));
    await dropped?.restore();
  }
  await client.query('commit');
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  const [after, reapedAfter] = [await cpuOf(backend), await cpuOf(postmaster)];
  return { wall, cpu: after.own - before.own + reapedAfter.children - reaped.children };
}

try {
  for (const name of args.workloads.split(',')) {
    const workload = workloads[name];
    const admin = await connect('postgres');
    await admin.query(`create database src_${name}`);
    await admin.query(`create database dst_${name}`);
    await admin.end();
    const source = await connect(`src_${name}`);
    process.stderr.write(`${name}: seeding ${Number(args.rows).toLocaleString('en-US')} rows …\n`);
    await workload.seed(source, Number(args.rows));
    const dumps = {};
    for (const table of workload.tables) {
      const chunks = [];
      for await (const chunk of source.query(copyStreams.to(`copy ${table} to stdout`))) chunks.push(chunk);
      dumps[table] = Buffer.concat(chunks);
    }
    await source.end();
    const target = await connect(`dst_${name}`);
    await target.query(workload.schema);
    const modes = args.mem ? ['keep', 'defer', 'defer+mem'] : ['keep', 'defer'];
    const results = Object.fromEntries(modes.map((mode) => [mode, { wall: [], cpu: [] }]));
    for (let pass = 0; pass < Number(args.passes); pass++) {
      for (const mode of pass % 2 === 0 ? modes : [...modes].reverse()) {
        const { wall, cpu } = await load(target, workload.tables, dumps, mode);
        results[mode].wall.push(wall.toFixed(2));
        results[mode].cpu.push(cpu.toFixed(2));
      }
    }
    await target.end();
    const sizes = Object.values(dumps).reduce((sum, dump) => sum + dump.length, 0);
    console.log(`${name} (${args.rows} rows seeded, ${(sizes / 1e6).toFixed(0)} MB of COPY text)`);
    for (const [mode, { wall, cpu }] of Object.entries(results))
      console.log(`  ${mode}: wall ${wall.join(', ')} s; server CPU ${cpu.join(', ')} s`);
  }
} finally {
  await server.stop();
}
