#!/usr/bin/env node
// export-postgres memory and throughput: peak RSS of the built CLI for subjects of growing size (it must
// stay flat), and throughput against a raw `COPY (SELECT to_jsonb(t)::text …) TO STDOUT` of the same rows
// in the same run, on the same server.
//
//   npx tsc -p tsconfig.build.json && npx oclif manifest     # build first
//   node bench/export-memory.js                              # subjects of 100,000 and 1,000,000 rows
//   node bench/export-memory.js --sizes 10000,100000,1000000,3000000
//   REPLAY_ENV_BENCH_DATABASE_URL=postgres://… node bench/export-memory.js   # your own server (superuser URL)
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';

import pg from 'pg';
import copyStreams from 'pg-copy-streams';

import { DatabaseUrl } from '../dist/postgres/database-url.js';
import { startEmbeddedPostgres } from '../dist/postgres/embedded.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100000,1000000' },
    redaction: { type: 'string', default: 'safe,raw' },
  },
});
const sizes = args.sizes.split(',').map(Number);
const redactions = args.redaction.split(',');

// ~330 bytes of JSON per row: text, numeric, array, jsonb (every 10th row holds a nested token that the
// safe export must parse and redact), timestamps; plus rows of another account the queries must skip.
const schema = `
  create table accounts (account_id text primary key, name text not null, email text not null);
  create table events (
    id bigint primary key, account_id text not null references accounts, kind text not null,
    amount numeric(12, 2) not null, tags text[] not null, payload jsonb not null, note text,
    created_at timestamptz not null);
  create index on events (account_id, id);`;

function manifest() {
  return {
    appId: 'bench',
    adapter: 'postgres-subject-graph.v1',
    subjectKeys: ['account_id'],
    postgres: {
      prodDatabaseUrlEnv: 'BENCH_PROD_DATABASE_URL',
      tables: [
        { name: 'accounts', alias: 'a', from: 'accounts a join graph_keys g using (account_id)' },
        {
          name: 'events',
          alias: 'e',
          from: 'events e join graph_keys g using (account_id)',
          orderBy: 'e.id',
        },
      ],
    },
    redactionRules: [
      { table: 'accounts', fields: ['email'], action: 'hash', prefix: 'mail-' },
      { fields: ['token'], action: 'empty' },
    ],
  };
}

async function connect(url) {
  const client = new pg.Client({ connectionString: url.connectionString() });
  await client.connect();
  return client;
}

async function seed(client) {
  await client.query(schema);
  let offset = 0;
  for (const size of [...sizes, Math.max(...sizes) / 5]) {
    const account = `acct-${offset}`;
    await client.query(`insert into accounts values ($1, 'Account ' || $1, $1 || '@example.com')`, [account]);
    await client.query(
      `insert into events
       select $2::bigint + i, $1, 'kind-' || (i % 17), (i % 100000) / 100.0, array['t' || (i % 5), 'x,y'],
              case when i % 10 = 0
                   then jsonb_build_object('auth', jsonb_build_object('token', 'tok-' || i), 'n', i)
                   else jsonb_build_object('items', jsonb_build_array(i, i + 1), 'ok', true, 'label', 'item ' || i) end,
              'note "' || i || E'"\\twith 🚀 and ' || repeat('z', i % 40),
              timestamptz '2026-01-01' + i * interval '1 second'
       from generate_series(1, $3::int) i`,
      [account, offset, size],
    );
    offset += 10_000_000;
  }
  await client.query('vacuum analyze');
}

/** Raw COPY of the same rows (the physical limit of the export), to a file. */
async function rawCopy(url, account, file) {
  const client = await connect(url);
  const started = performance.now();
  try {
    const out = createWriteStream(file);
    for (const sql of [
      `copy (select to_jsonb(a)::text from accounts a where account_id = '${account}') to stdout`,
      `copy (select to_jsonb(e)::text from events e where account_id = '${account}' order by e.id) to stdout`,
    ]) {
      await pipeline(client.query(copyStreams.to(sql)), out, { end: false });
    }
    await new Promise((resolve) => out.end(resolve));
  } finally {
    await client.end();
  }
  return { seconds: (performance.now() - started) / 1000, bytes: (await stat(file)).size };
}

/** The built CLI under /usr/bin/time -v: wall time and peak RSS of the whole process. */
async function cliExport(manifestPath, account, out, redaction, env) {
  const started = performance.now();
  const { stdout, stderr } = await run(
    '/usr/bin/time',
    [
      '-v',
      process.execPath,
      join(root, 'bin/run.js'),
      'export-postgres',
      '--app',
      manifestPath,
      '--subject',
      `account_id=${account}`,
      '--out',
      out,
      '--redaction',
      redaction,
      '--json',
    ],
    { env: { ...process.env, ...env }, maxBuffer: 1 << 24 },
  );
  const seconds = (performance.now() - started) / 1000;
  const peakKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1] ?? NaN);
  const result = JSON.parse(stdout);
  return { seconds, peakMb: peakKb / 1024, rows: result.totalRows, bytes: result.bytes };
}

async function main() {
  const external = process.env.REPLAY_ENV_BENCH_DATABASE_URL;
  const server = external
    ? undefined
    : await startEmbeddedPostgres({
        settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_wal_size: '4GB' },
      });
  const admin = external ? DatabaseUrl.parse(external) : server.adminUrl;
  const work = await mkdtemp(join(tmpdir(), 'replay-env-export-bench-'));
  const results = [];
  try {
    const adminClient = await connect(admin);
    await adminClient.query('drop database if exists bench_export with (force)');
    await adminClient.query('create database bench_export');
    await adminClient.end();
    const url = admin.withDatabase('bench_export');
    process.stderr.write(`seeding subjects of ${sizes.join(', ')} rows …\n`);
    const client = await connect(url);
    await seed(client);
    await client.end();
    const manifestPath = join(work, 'bench.json');
    await writeFile(manifestPath, JSON.stringify(manifest(), null, 2));
    const env = { BENCH_PROD_DATABASE_URL: url.connectionString() };
    let offset = 0;
    for (const size of sizes) {
      const account = `acct-${offset}`;
      offset += 10_000_000;
      process.stderr.write(`raw COPY, ${size} rows …\n`);
      const raw = await rawCopy(url, account, join(work, 'raw.jsonl'));
      results.push({ step: 'raw COPY to_jsonb::text', rows: size + 1, ...raw, peakMb: null, ratio: 1 });
      await rm(join(work, 'raw.jsonl'));
      for (const redaction of redactions) {
        process.stderr.write(`export-postgres --redaction ${redaction}, ${size} rows …\n`);
        const out = join(work, 'capsule.json');
        const exp = await cliExport(manifestPath, account, out, redaction, env);
        results.push({
          step: `export-postgres (${redaction})`,
          rows: exp.rows,
          seconds: exp.seconds,
          bytes: exp.bytes,
          peakMb: exp.peakMb,
          ratio: raw.seconds / exp.seconds,
        });
        await rm(out);
      }
    }
    const baseline = await run(process.execPath, [
      '-e',
      'process.stdout.write(String(process.resourceUsage().maxRSS))',
    ]);
    printTable(results, Number(baseline.stdout) / 1024);
  } finally {
    await rm(work, { recursive: true, force: true });
    await server?.stop();
  }
}

function printTable(results, nodeBaselineMb) {
  const pad = (text, width) => String(text).padStart(width);
  process.stdout.write(
    `\n${'step'.padEnd(28)}${pad('rows', 10)}${pad('seconds', 9)}${pad('rows/s', 10)}${pad('MB', 8)}${pad('peak RSS MB', 13)}${pad('vs raw', 8)}\n`,
  );
  for (const row of results) {
    process.stdout.write(
      `${row.step.padEnd(28)}${pad(row.rows.toLocaleString('en-US'), 10)}${pad(row.seconds.toFixed(2), 9)}${pad(Math.round(row.rows / row.seconds).toLocaleString('en-US'), 10)}${pad((row.bytes / 1e6).toFixed(1), 8)}${pad(row.peakMb === null ? '—' : row.peakMb.toFixed(1), 13)}${pad(row.ratio === 1 ? '1.00' : row.ratio.toFixed(2), 8)}\n`,
    );
  }
  process.stdout.write(`(a bare \`node -e\` peaks at ${nodeBaselineMb.toFixed(1)} MB on this machine)\n`);
}

await main();
