#!/usr/bin/env node
// The server's side of value verification (docs/materialize.md "Not guaranteed", cost), measured in CPU
// seconds as well as wall time, so a loaded machine distorts it less: each table's digest query as
// materialize runs it now (src/materialize/value-digest.ts: rows printed column by column) against the
// query it replaced (`to_jsonb(t)::text`) and, for its cost only, `hash_record_extended` over the same
// columns (a digest without output functions), alternating, on the bench workloads' seeded tables. CPU is the
// backend's plus its parallel workers' (reaped by the postmaster: its children's CPU), from /proc, so it
// needs the embedded server this script starts on this machine. The two text queries must give the same sums
// (the same canonical text for every row), or it stops.
//
//   npm run build && node bench/verify-scan.js --rows 1000000 --passes 3 [--workloads simple,realistic]
import { parseArgs } from 'node:util';

import pg from 'pg';

import { tableDigestSql } from '../dist/materialize/value-digest.js';
import { readTables } from '../dist/postgres/catalog.js';
import { startEmbeddedPostgres } from '../dist/postgres/embedded.js';
import { cpuOf, postmasterPid } from './server-cpu.js';
import { realistic } from './workloads/realistic.js';
import { simple } from './workloads/simple.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    passes: { type: 'string', default: '3' },
    workloads: { type: 'string', default: 'simple,realistic' },
  },
});
const workloads = { simple, realistic };
const server = await startEmbeddedPostgres({ settings: { fsync: 'off' } });
try {
  for (const name of args.workloads.split(',')) {
    const admin = new pg.Client({ connectionString: server.adminUrl.connectionString() });
    await admin.connect();
    await admin.query(`create database bench_${name}`);
    await admin.end();
    const client = new pg.Client({
      connectionString: server.adminUrl.withDatabase(`bench_${name}`).connectionString(),
    });
    await client.connect();
    process.stderr.write(`${name}: seeding ${Number(args.rows).toLocaleString('en-US')} rows …\n`);
    await workloads[name].seed(client, Number(args.rows));
    await client.query(`set timezone = 'UTC'`);
    const backend = (await client.query('select pg_backend_pid() as pid')).rows[0].pid;
    const postmaster = await postmasterPid(server.dataDir);
    const infos = await readTables(client, workloads[name].tables);
    const queries = {
      'to_jsonb(t)::text (before)': (table) =>
        `select count(*)::bigint as rows, coalesce(sum(hashtextextended((to_jsonb(t))::text collate "C", 0)), 0)::text as sum from "${table}" t`,
      'column by column (now)': (table) => tableDigestSql(table, infos.get(table).columns).text,
      // Cost only (its sum is not the text digest's, and the client cannot compute it today): the
      // binary values' own hash functions, no output function per value (docs/performance.md).
      'hash_record_extended (cost only)': (table) =>
        `select count(*)::bigint as rows, coalesce(sum(hash_record_extended(row(${infos
          .get(table)
          .columns.filter((column) => !column.generated)
          .map((column) => `t."${column.name}"`)
          .join(', ')}), 0)), 0)::text as sum from "${table}" t`,
    };
    const costOnly = new Set(['hash_record_extended (cost only)']);
    const results = Object.fromEntries(Object.keys(queries).map((label) => [label, { wall: [], cpu: [] }]));
    const sums = {};
    for (let pass = 0; pass < Number(args.passes); pass++) {
      for (const [label, sql] of Object.entries(queries)) {
        let wall = 0;
        let cpu = 0;
        for (const table of workloads[name].tables) {
          const [before, reaped] = [await cpuOf(backend), await cpuOf(postmaster)];
          const start = process.hrtime.bigint();
          const { rows } = await client.query(sql(table));
          wall += Number(process.hrtime.bigint() - start) / 1e9;
          const [after, reapedAfter] = [await cpuOf(backend), await cpuOf(postmaster)];
          cpu += after.own - before.own + reapedAfter.children - reaped.children;
          const digest = `${rows[0].rows}/${rows[0].sum}`;
          if (!costOnly.has(label) && (sums[table] ??= digest) !== digest)
            throw new Error(`${table}: ${label} gave ${digest}, not ${sums[table]}`);
        }
        results[label].wall.push(wall.toFixed(2));
        results[label].cpu.push(cpu.toFixed(2));
      }
    }
    await client.end();
    console.log(`${name} (${args.rows} rows seeded; same digests from the two text queries)`);
    for (const [label, { wall, cpu }] of Object.entries(results))
      console.log(`  ${label}: wall ${wall.join(', ')} s; CPU ${cpu.join(', ')} s`);
  }
} finally {
  await server.stop();
}
