#!/usr/bin/env node
// Value verification's server scan where materialize runs it: inside the load's transaction, right after
// COPY filled the (truncated) tables, so the rows are uncommitted and PostgreSQL plans as it would then
// (docs/performance.md, ninth session). Each pass truncates, copies each workload table's in-scope rows
// (native COPY text, dumped once) in one transaction, runs one digest variant over every table, rolls back.
// Variants alternate within a pass. Wall time and CPU (the backend's plus its parallel workers', reaped by
// the postmaster) from /proc, so it starts its own server: embedded PostgreSQL 17, or with --pg15 the
// Debian PostgreSQL 15 server. The first pass also prints the workers each table's digest launched
// (EXPLAIN ANALYZE, untimed). The digest's variants must give the same digests, or it stops; those marked
// "cost only" are not digests. Each load (raw COPY FROM into the indexed tables) is timed too, so every
// variant reads as a fraction of the load it follows.
//
//   npm run build && node bench/verify-in-load.js --rows 1000000 --passes 2 [--workloads simple,realistic] [--pg15]
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';

import pg from 'pg';
import copyStreams from 'pg-copy-streams';

import { rowTextSql } from '../dist/materialize/row-text-sql.js';
import { tableDigestSql } from '../dist/materialize/value-digest.js';
import { readTables } from '../dist/postgres/catalog.js';
import { startEmbeddedPostgres } from '../dist/postgres/embedded.js';
import { cpuOf } from './server-cpu.js';
import { benchServerSettings } from './server-settings.js';
import { realistic } from './workloads/realistic.js';
import { simple } from './workloads/simple.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    passes: { type: 'string', default: '2' },
    workloads: { type: 'string', default: 'simple,realistic' },
    pg15: { type: 'boolean', default: false },
  },
});
const debian = '/usr/lib/postgresql/15/bin';
const server = await startEmbeddedPostgres({
  settings: benchServerSettings,
  ...(args.pg15 ? { binaries: { initdb: `${debian}/initdb`, postgres: `${debian}/postgres` } } : {}),
});
const dir = await mkdtemp(join(tmpdir(), 'verify-in-load-'));
const connect = async (database) => {
  const client = new pg.Client({
    connectionString: server.adminUrl.withDatabase(database).connectionString(),
  });
  await client.connect();
  return client;
};
const serial = ['set local max_parallel_workers_per_gather = 0'];
const hashed = (text, table) =>
  `select count(*)::bigint as rows, coalesce(sum(hashtextextended((${text}) collate "C", 0)), 0)::text as sum from "${table}" t`;
/** label → { sql(table, columns), settings }: the digest as materialize runs it first. */
const variants = {
  'digest (as planned)': { sql: (table, columns) => tableDigestSql(table, columns).text },
  'digest, serial': { sql: (table, columns) => tableDigestSql(table, columns).text, settings: serial },
  // The same text built by one concat(…) call instead of the || chain (same digest), serial.
  'concat(…) row text, serial': {
    sql: (table, columns) => hashed(`concat(${rowTextSql('t', columns).split(' || ').join(', ')})`, table),
    settings: serial,
  },
  // Not exact JSON (no escaping, output-function text): the floor of any digest of printed values.
  'output functions only (cost only)': {
    sql: (table, columns) =>
      hashed(
        `concat_ws(E'\\t', ${columns.map((c) => `coalesce(t."${c.name}"::text, '\\N')`).join(', ')})`,
        table,
      ),
  },
  // The binary values' own hashes, no printing (branch dig8's server side).
  'hash_record_extended (cost only)': {
    sql: (table, columns) =>
      `select count(*)::bigint as rows, coalesce(sum(hash_record_extended(row(${columns.map((c) => `t."${c.name}"`).join(', ')}), 0)), 0)::text as sum from "${table}" t`,
  },
};

try {
  const admin = await connect('postgres');
  const version = (await admin.query('show server_version')).rows[0].server_version;
  for (const name of args.workloads.split(',')) {
    const workload = { simple, realistic }[name];
    await admin.query(`create database src_${name}`);
    await admin.query(`create database dst_${name}`);
    const source = await connect(`src_${name}`);
    process.stderr.write(`${name}: seeding ${Number(args.rows).toLocaleString('en-US')} rows …\n`);
    await workload.seed(source, Number(args.rows));
    const keys = `with graph_keys as (${workload.graphKeysSql})`;
    for (const table of workload.tables)
      await pipeline(
        source.query(
          copyStreams.to(`copy (${keys} select x.* from ${workload.scopeSql(table).from}) to stdout`),
        ),
        createWriteStream(join(dir, `${name}-${table}.copy`)),
      );
    await source.end();
    const target = await connect(`dst_${name}`);
    await target.query(workload.schema);
    const infos = await readTables(target, workload.tables);
    const columnsOf = (table) => infos.get(table).columns.filter((column) => !column.generated);
    const backend = (await target.query('select pg_backend_pid() as pid')).rows[0].pid;
    const results = {};
    const workers = [];
    let digests;
    for (let pass = 0; pass < Number(args.passes); pass++) {
      for (const [label, variant] of Object.entries(variants)) {
        await target.query(`truncate ${workload.tables.join(', ')}`);
        await target.query('checkpoint');
        await target.query('begin');
        const loadCpu = await cpuOf(backend);
        const loadStart = process.hrtime.bigint();
        for (const table of workload.tables)
          await pipeline(
            createReadStream(join(dir, `${name}-${table}.copy`)),
            target.query(copyStreams.from(`copy ${table} from stdin`)),
          );
        // The load itself (raw COPY FROM into the indexed tables, this pass): what a digest is a fraction of.
        const load = (results['load: raw COPY FROM (for scale)'] ??= { wall: [], cpu: [] });
        load.wall.push((Number(process.hrtime.bigint() - loadStart) / 1e9).toFixed(2));
        load.cpu.push(((await cpuOf(backend)).own - loadCpu.own).toFixed(2));
        await target.query(`set local timezone = 'UTC'`);
        for (const setting of variant.settings ?? []) await target.query(setting);
        if (pass === 0 && label === 'digest (as planned)')
          for (const table of workload.tables) {
            const plan = JSON.stringify(
              (await target.query(`explain (analyze, format json) ${variant.sql(table, columnsOf(table))}`))
                .rows,
            );
            workers.push(`${table} ${plan.match(/"Workers Launched":(\d+)/)?.[1] ?? 0}`);
          }
        const [own, reaped] = [await cpuOf(backend), await cpuOf(server.pid)];
        const start = process.hrtime.bigint();
        const sums = [];
        for (const table of workload.tables) {
          const { rows } = await target.query(variant.sql(table, columnsOf(table)));
          sums.push(`${rows[0].rows}/${rows[0].sum}`);
        }
        const wall = Number(process.hrtime.bigint() - start) / 1e9;
        await new Promise((resolve) => setTimeout(resolve, 200)); // workers reaped
        const [ownAfter, reapedAfter] = [await cpuOf(backend), await cpuOf(server.pid)];
        await target.query('rollback');
        if (!label.includes('cost only') && (digests ??= sums.join(' ')) !== sums.join(' '))
          throw new Error(`${name}: ${label} gave other digests than the digest`);
        const entry = (results[label] ??= { wall: [], cpu: [] });
        entry.wall.push(wall.toFixed(2));
        entry.cpu.push((ownAfter.own - own.own + reapedAfter.children - reaped.children).toFixed(2));
      }
    }
    await target.end();
    console.log(
      `${name}, ${args.rows} rows seeded, PostgreSQL ${version}; digest workers launched: ${workers.join(', ')}`,
    );
    for (const [label, { wall, cpu }] of Object.entries(results))
      console.log(`  ${label.padEnd(34)} wall ${wall.join(', ')} s; CPU ${cpu.join(', ')} s`);
  }
  await admin.end();
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
