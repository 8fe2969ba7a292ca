#!/usr/bin/env node
// replay-env benchmark: export and materialize against raw COPY of the same rows, in the same run, on the
// same server. Prints a table of ratios and writes it as JSON to bench/results/.
//
//   npm run bench                      # 1,000,000 rows in scope (embedded PostgreSQL)
//   npm run bench -- --rows 3000000    # bigger
//   npm run bench -- --rows 200000 --strategies copy
//   REPLAY_ENV_BENCH_DATABASE_URL=postgres://… npm run bench   # use your own server (a superuser URL)
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import pg from 'pg';
import copyStreams from 'pg-copy-streams';

import { DatabaseUrl } from '../dist/postgres/database-url.js';
import { startEmbeddedPostgres } from '../dist/postgres/embedded.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    strategies: { type: 'string', default: 'copy,jsonb' },
    repeat: { type: 'string', default: '1' },
    out: { type: 'string' },
  },
});
const totalRows = Number(args.rows);
const strategies = args.strategies.split(',');

// Scope: one account. events 70%, comments 25%, accounts' members 5% (jsonb, arrays, text with escapes).
const schema = `
create table accounts (account_id text primary key, name text not null, settings jsonb not null);
create table members (account_id text not null references accounts, member_id bigint not null, email text not null,
  roles text[] not null, profile jsonb not null, joined_at timestamptz not null, primary key (account_id, member_id));
create table events (id bigint primary key, account_id text not null references accounts, member_id bigint not null,
  kind text not null, payload jsonb not null, tags text[] not null, amount numeric(12,2), at timestamptz not null);
create table comments (id bigint primary key, event_id bigint not null references events, account_id text not null,
  body text not null, created_at timestamptz not null);
create index on events (account_id); create index on comments (account_id); create index on members (account_id);
`;

function manifest() {
  const table = (name, alias, orderBy) => ({
    name,
    alias,
    from: `${name} ${alias} join graph_keys g on g.account_id = ${alias}.account_id`,
    orderBy,
    deletePredicate: 't.account_id = g.account_id',
  });
  return {
    appId: 'bench',
    adapter: 'postgres-subject-graph.v1',
    subjectKeys: ['account_id'],
    postgres: {
      prodDatabaseUrlEnv: 'BENCH_PROD_DATABASE_URL',
      replayDatabaseUrlEnv: 'BENCH_REPLAY_DATABASE_URL',
      graphEdges: [],
      tableOrder: ['accounts', 'members', 'events', 'comments'],
      tables: [
        table('accounts', 'a', 'a.account_id'),
        table('members', 'm', 'm.member_id'),
        table('events', 'e', 'e.id'),
        table('comments', 'c', 'c.id'),
      ],
    },
    redactionRules: [{ table: 'members', fields: ['email'], action: 'hash', prefix: 'member-' }],
  };
}

async function seed(client, n) {
  const members = Math.max(1, Math.floor(n * 0.05));
  const events = Math.floor(n * 0.7);
  const comments = n - members - events - 1;
  await client.query(schema);
  await client.query(
    `insert into accounts values ('acct-1', 'Bench Co', '{"plan":"pro"}'), ('acct-2', 'Other', '{}')`,
  );
  await client.query(
    `insert into members select 'acct-1', i, 'member' || i || '@example.com', array['agent', 'role "' || (i % 7) || '"'],
       jsonb_build_object('bio', E'line1\\nline2\\t' || i, 'prefs', jsonb_build_object('theme', 'dark', 'n', i)),
       now() - (i || ' minutes')::interval from generate_series(1, $1) i`,
    [members],
  );
  await client.query(
    `insert into events select i, 'acct-1', 1 + i % $2, 'kind_' || (i % 13),
       jsonb_build_object('i', i, 'text', 'some "quoted" text ü ' || md5(i::text), 'nested', jsonb_build_object('a', array[i, i + 1], 'ok', i % 2 = 0)),
       array['t' || (i % 5), 'tag,with,commas'], (i % 10000) / 100.0, now() - (i || ' seconds')::interval
     from generate_series(1, $1) i`,
    [events, members],
  );
  await client.query(
    `insert into comments select i, 1 + i % $2, 'acct-1', 'comment ' || i || E' with \\\\ backslash and emoji 🚀 ' || md5(i::text), now()
     from generate_series(1, $1) i`,
    [comments, events],
  );
  // Noise outside the scope, so the queries have to select.
  await client.query(
    `insert into events select 100000000 + i, 'acct-2', 1, 'x', '{}', '{}', 0, now() from generate_series(1, $1) i`,
    [Math.floor(n * 0.2)],
  );
  await client.query('analyze');
  return { members, events, comments, accounts: 1 };
}

async function connect(url) {
  const client = new pg.Client({ connectionString: url.connectionString() });
  await client.connect();
  return client;
}

async function timed(fn) {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, value };
}

/** Raw export: COPY of each table's row JSON text to one file — the physical limit for export. */
async function rawExport(url, file) {
  const client = await connect(url);
  const out = createWriteStream(file);
  try {
    for (const t of ['accounts', 'members', 'events', 'comments']) {
      const stream = client.query(
        copyStreams.to(
          `copy (select to_jsonb(x)::text from ${t} x where x.account_id = 'acct-1' order by 1) to stdout`,
        ),
      );
      await pipeline(stream, out, { end: false });
    }
  } finally {
    out.end();
    await client.end();
  }
  return (await stat(file)).size;
}

/** Raw load: native COPY text of the same rows into the empty schema — the physical limit for loading. */
async function rawLoad(sourceUrl, targetUrl, dir) {
  const source = await connect(sourceUrl);
  const files = {};
  for (const t of ['accounts', 'members', 'events', 'comments']) {
    files[t] = join(dir, `${t}.copy`);
    await pipeline(
      source.query(copyStreams.to(`copy (select * from ${t} where account_id = 'acct-1') to stdout`)),
      createWriteStream(files[t]),
    );
  }
  await source.end();
  const target = await connect(targetUrl);
  const { createReadStream } = await import('node:fs');
  const result = await timed(async () => {
    await target.query('begin');
    for (const t of ['accounts', 'members', 'events', 'comments']) {
      await pipeline(createReadStream(files[t]), target.query(copyStreams.from(`copy ${t} from stdin`)));
    }
    await target.query('commit');
  });
  await target.query('truncate accounts, members, events, comments');
  await target.end();
  return result.seconds;
}

/** Runs the built CLI, sampling its peak RSS (VmHWM) from /proc. */
function runCli(cliArgs, env) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, [join(root, 'bin/run.js'), ...cliArgs], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let peakKb = 0;
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const sample = async () => {
      try {
        const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
        const match = /VmHWM:\s+(\d+) kB/.exec(status);
        if (match) peakKb = Math.max(peakKb, Number(match[1]));
      } catch {
        /* process gone */
      }
    };
    const timer = setInterval(sample, 25);
    child.on('error', reject);
    child.on('exit', async (code) => {
      clearInterval(timer);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (code !== 0)
        reject(
          new Error(
            `replay-env ${cliArgs[0]} exited ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`,
          ),
        );
      else resolve({ seconds, peakMb: peakKb / 1024, stdout });
    });
  });
}

async function main() {
  const external = process.env.REPLAY_ENV_BENCH_DATABASE_URL;
  const server = external
    ? undefined
    : await startEmbeddedPostgres({
        settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_wal_size: '4GB' },
      });
  const admin = external ? DatabaseUrl.parse(external) : server.adminUrl;
  const work = await mkdtemp(join(tmpdir(), 'replay-env-bench-'));
  try {
    const adminClient = await connect(admin);
    await adminClient.query('drop database if exists bench_source with (force)');
    await adminClient.query('drop database if exists bench_replay with (force)');
    await adminClient.query('create database bench_source');
    await adminClient.query('create database bench_replay');
    await adminClient.end();
    const sourceUrl = admin.withDatabase('bench_source');
    const replayUrl = admin.withDatabase('bench_replay');
    process.stderr.write(`seeding ${totalRows.toLocaleString()} rows in scope …\n`);
    const source = await connect(sourceUrl);
    const counts = await seed(source, totalRows);
    await source.end();
    const replay = await connect(replayUrl);
    await replay.query(schema);
    await replay.end();
    const manifestPath = join(work, 'bench.json');
    await writeFile(manifestPath, JSON.stringify(manifest(), null, 2));
    const env = {
      BENCH_PROD_DATABASE_URL: sourceUrl.connectionString(),
      BENCH_REPLAY_DATABASE_URL: replayUrl.connectionString(),
    };
    const rows = [];

    process.stderr.write('raw COPY export …\n');
    const raw = await timed(() => rawExport(sourceUrl, join(work, 'raw.jsonl')));
    const rawBytes = raw.value;
    rows.push({
      step: 'raw COPY TO (row JSON)',
      seconds: raw.seconds,
      bytes: rawBytes,
      peakMb: null,
      ratio: 1,
    });

    process.stderr.write('replay-env export-postgres …\n');
    const capsule = join(work, 'capsule.json');
    const exp = await runCli(
      [
        'export-postgres',
        '--app',
        manifestPath,
        '--subject',
        'account_id=acct-1',
        '--since-days',
        '36500',
        '--out',
        capsule,
      ],
      env,
    );
    const capsuleBytes = (await stat(capsule)).size;
    rows.push({
      step: 'export-postgres',
      seconds: exp.seconds,
      bytes: capsuleBytes,
      peakMb: exp.peakMb,
      ratio: raw.seconds / exp.seconds,
    });

    process.stderr.write('raw COPY load …\n');
    const rawLoadSeconds = await rawLoad(sourceUrl, replayUrl, work);
    rows.push({
      step: 'raw COPY FROM (native text)',
      seconds: rawLoadSeconds,
      bytes: null,
      peakMb: null,
      ratio: 1,
    });

    for (const strategy of strategies) {
      process.stderr.write(`replay-env materialize-postgres --load-strategy ${strategy} …\n`);
      const target = await connect(replayUrl);
      await target.query('truncate accounts, members, events, comments');
      await target.end();
      const mat = await runCli(
        [
          'materialize-postgres',
          '--app',
          manifestPath,
          '--capsule',
          capsule,
          '--load-strategy',
          strategy,
          '--chunk-size',
          '5000',
        ],
        env,
      );
      rows.push({
        step: `materialize-postgres (${strategy})`,
        seconds: mat.seconds,
        bytes: null,
        peakMb: mat.peakMb,
        ratio: rawLoadSeconds / mat.seconds,
      });
    }

    const result = {
      date: new Date().toISOString(),
      rowsInScope: totalRows,
      counts,
      node: process.version,
      results: rows,
    };
    printTable(result);
    const outFile = args.out ?? join(root, 'bench', 'results', `bench-${totalRows}.json`);
    await mkdir(join(outFile, '..'), { recursive: true });
    await writeFile(outFile, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`\nwritten: ${outFile}\n`);
  } finally {
    await rm(work, { recursive: true, force: true });
    await server?.stop();
  }
}

function printTable(result) {
  const n = result.rowsInScope;
  const line = (cells) => cells.map((c, i) => String(c).padEnd([34, 10, 12, 12, 12, 10][i])).join('');
  process.stdout.write(`\nrows in scope: ${n.toLocaleString()} (${JSON.stringify(result.counts)})\n`);
  process.stdout.write(`${line(['step', 'seconds', 'rows/s', 'MB/s', 'peak RSS', 'vs raw'])}\n`);
  for (const r of result.results) {
    const mbs = r.bytes ? (r.bytes / 1e6 / r.seconds).toFixed(1) : '';
    process.stdout.write(
      `${line([r.step, r.seconds.toFixed(2), Math.round(n / r.seconds).toLocaleString(), mbs, r.peakMb ? `${r.peakMb.toFixed(0)} MB` : '', `${r.ratio.toFixed(2)}x`])}\n`,
    );
  }
}

await main();
