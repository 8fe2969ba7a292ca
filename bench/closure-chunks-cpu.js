#!/usr/bin/env node
// The server's side of the passed-key closure path (docs/performance.md, issue #18): the `parents`
// workload's parent rows fetched as closure does, chunk by chunk (the keys in the kids' order, each chunk
// in a transaction-local setting, then one COPY), with the keys as JSON tuples (jsonb_array_elements and a
// cast per key, as before the ninth session) and as an integer array literal (closure-sql.ts
// keysAsIntegerArray), each also returning only the ids (the keys' share without the rows' to_jsonb),
// and raw COPY's semi join; alternating. CPU is the backend's, from /proc/<pid>/stat (the semi join's
// parallel workers are not in it), so it needs the embedded server this script starts on this machine.
//
//   npm run build && node bench/closure-chunks-cpu.js [--rows 1000000] [--chunk 10000] [--passes 3]
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';

import pg from 'pg';
import copyStreams from 'pg-copy-streams';

import { startEmbeddedPostgres } from '../dist/postgres/embedded.js';
import { parents } from './workloads/parents.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    chunk: { type: 'string', default: '10000' },
    passes: { type: 'string', default: '3' },
  },
});
const byJson = `any(array(select (k.value->>0)::bigint
  from jsonb_array_elements(current_setting('replay.closure_keys')::jsonb) as k))`;
const byArray = `any((select current_setting('replay.closure_keys'))::bigint[])`;
const rows = 'to_jsonb(x.*)::jsonb::text';
const variants = {
  json: { keys: (chunk) => `[${chunk.map((key) => `[${key}]`).join(',')}]`, select: rows, any: byJson },
  array: { keys: (chunk) => `{${chunk.join(',')}}`, select: rows, any: byArray },
  'json, ids only': {
    keys: (chunk) => `[${chunk.map((key) => `[${key}]`).join(',')}]`,
    select: 'x.id',
    any: byJson,
  },
  'array, ids only': { keys: (chunk) => `{${chunk.join(',')}}`, select: 'x.id', any: byArray },
};
const raw = `select to_jsonb(x)::text from parents x
  where x.id in (select k.parent_id from kids k where k.account_id = 'acct-1') order by x.id`;

const backendCpu = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ').map(Number);
  return (fields[11] + fields[12]) / 100;
};
const discard = () => new Writable({ write: (_chunk, _encoding, done) => done() });

const server = await startEmbeddedPostgres({ settings: { fsync: 'off' } });
try {
  const admin = new pg.Client({ connectionString: server.adminUrl.connectionString() });
  await admin.connect();
  await admin.query('create database bench_parents');
  await admin.end();
  const url = server.adminUrl.withDatabase('bench_parents').connectionString();
  const seeder = new pg.Client({ connectionString: url });
  await seeder.connect();
  await parents.seed(seeder, Number(args.rows));
  const keys = (
    await seeder.query(`select parent_id::text as id from kids where account_id = 'acct-1' order by id`)
  ).rows.map((row) => row.id);
  await seeder.end();
  const size = Number(args.chunk);
  const chunks = [];
  for (let at = 0; at < keys.length; at += size) chunks.push(keys.slice(at, at + size));
  const samples = Object.fromEntries(
    ['raw COPY semi join', ...Object.keys(variants)].map((name) => [name, []]),
  );
  for (let pass = 0; pass < Number(args.passes); pass += 1) {
    for (const name of Object.keys(samples)) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const pid = (await client.query('select pg_backend_pid() as pid')).rows[0].pid;
      const before = backendCpu(pid);
      const started = performance.now();
      const variant = variants[name];
      if (!variant) await pipeline(client.query(copyStreams.to(`copy (${raw}) to stdout`)), discard());
      else
        for (const chunk of chunks) {
          await client.query('begin');
          await client.query(`select set_config('replay.closure_keys', $1, true)`, [variant.keys(chunk)]);
          const sql = `select ${variant.select} from parents x where x.id = ${variant.any} order by x.id`;
          await pipeline(client.query(copyStreams.to(`copy (${sql}) to stdout`)), discard());
          await client.query('commit');
        }
      samples[name].push({ cpu: backendCpu(pid) - before, wall: (performance.now() - started) / 1000 });
      await client.end();
    }
  }
  console.log(`${keys.length.toLocaleString('en-US')} parent keys, ${chunks.length} chunks of ${size}`);
  for (const [name, list] of Object.entries(samples))
    console.log(
      `${name.padEnd(20)} backend CPU ${list.map((s) => s.cpu.toFixed(2)).join(', ')} s; wall ${list.map((s) => s.wall.toFixed(2)).join(', ')} s`,
    );
} finally {
  await server.stop();
}
