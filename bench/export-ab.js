#!/usr/bin/env node
// A/B of export-postgres between builds (docs/performance.md, ninth session): one embedded server seeded
// once with a workload, then each build's export and raw COPY TO of the same rows alternate within each
// repetition. Prints per run the CLI's CPU (user + system, /usr/bin/time; for raw COPY TO, this process's own
// CPU while it reads and writes the rows), the server's CPU (the
// postmaster's reaped children: backends and parallel workers once they exit), wall time, and a digest
// of the capsule's integrity trailer (sha256-rows-v1 of every table): equal digests, equal rows.
//
//   node bench/export-ab.js --builds old=/path/to/old/checkout,new=. --rows 1000000 --reps 3
//   node bench/export-ab.js --builds "two=.,one=.+REPLAY_ENV_EXPORT_CONNECTIONS=1"   # one build, two settings
//   node bench/export-ab.js --workload parents --closure --builds "direct=.,keys=.+REPLAY_ENV_CLOSURE_DIRECT=0"
// A build is a checkout with dist/, bin/, schemas/, package.json and oclif.manifest.json (node_modules may be a symlink).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, createWriteStream, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';

import pg from 'pg';
import copyStreams from 'pg-copy-streams';

import { startEmbeddedPostgres } from '../dist/postgres/embedded.js';
import { exportArgs } from './export-args.js';
import { graphKeysCte } from './graph-keys.js';
import { cpuOf } from './server-cpu.js';
import { benchServerSettings } from './server-settings.js';
import { parents } from './workloads/parents.js';
import { realistic } from './workloads/realistic.js';
import { simple } from './workloads/simple.js';

const { values: args } = parseArgs({
  options: {
    builds: { type: 'string', default: 'new=.' },
    rows: { type: 'string', default: '1000000' },
    reps: { type: 'string', default: '3' },
    workload: { type: 'string', default: 'realistic' },
    closure: { type: 'boolean', default: false },
  },
});
// A build may carry environment variables for its CLI only: `name=path+VAR=value+VAR2=value`.
const builds = args.builds.split(',').map((b) => {
  const [spec, ...vars] = b.split('+');
  const at = spec.indexOf('=');
  const env = Object.fromEntries(vars.map((v) => [v.slice(0, v.indexOf('=')), v.slice(v.indexOf('=') + 1)]));
  return [spec.slice(0, at), spec.slice(at + 1), env];
});
const workload = { simple, realistic, parents }[args.workload];
const dir = await mkdtemp(join(tmpdir(), 'replay-env-export-ab-'));
const server = await startEmbeddedPostgres({
  settings: benchServerSettings,
});
const url = server.adminUrl.withDatabase('postgres');
const query = async (sql) => {
  const client = new pg.Client({ connectionString: url.connectionString() });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
};
/** The last `bytes` of a file as text (a 3M-row capsule is longer than a JS string may be). */
const tail = (path, bytes) => {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buffer = Buffer.alloc(Math.min(bytes, size));
    readSync(fd, buffer, 0, buffer.length, size - buffer.length);
    return buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** The server's CPU so far, once no other backend or worker is left (so the step's have been reaped). */
const serverCpu = async () => {
  for (let i = 0; i < 200; i++) {
    const { rows } = await query(
      `select count(*)::int as n from pg_stat_activity where backend_type in ('client backend', 'parallel worker') and pid <> pg_backend_pid()`,
    );
    if (rows[0].n === 0) break;
    await sleep(20);
  }
  await sleep(50);
  return (await cpuOf(server.pid)).children;
};

try {
  const seeder = new pg.Client({ connectionString: url.connectionString() });
  await seeder.connect();
  await workload.seed(seeder, Number(args.rows));
  const keysCte = await graphKeysCte(seeder, workload);
  await seeder.end();
  const manifestPath = join(dir, 'bench.json');
  await writeFile(manifestPath, JSON.stringify(workload.manifest({ closure: args.closure }), null, 2));
  const capsule = join(dir, 'capsule.json');

  const raw = async () => {
    const cpuBefore = process.cpuUsage();
    const client = new pg.Client({ connectionString: url.connectionString() });
    await client.connect();
    const out = createWriteStream(join(dir, 'raw.jsonl'));
    out.setMaxListeners(0);
    for (const table of workload.tables) {
      const { from, orderBy } = workload.scopeSql(table);
      const sql = `copy (${keysCte} select to_jsonb(x)::text from ${from} order by ${orderBy}) to stdout`;
      await pipeline(client.query(copyStreams.to(sql)), out, { end: false });
    }
    await new Promise((resolve) => out.end(resolve));
    await client.end();
    const used = process.cpuUsage(cpuBefore);
    return { clientCpu: (used.user + used.system) / 1e6 };
  };
  const cli = (build, buildEnv) =>
    new Promise((resolve, reject) => {
      const child = spawn(
        '/usr/bin/time',
        [
          '-f',
          '%U %S',
          process.execPath,
          join(build, 'bin/run.js'),
          ...exportArgs({ manifestPath, workload, capsule, redaction: 'safe' }),
        ],
        {
          env: { ...process.env, ...buildEnv, BENCH_PROD_DATABASE_URL: url.connectionString() },
          stdio: 'pipe',
        },
      );
      let stderr = '';
      child.stdout.resume();
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (code) => {
        if (code !== 0) return reject(new Error(stderr.slice(-2000)));
        const [user, system] = stderr.trim().split('\n').at(-1).split(' ').map(Number);
        const trailer = /"integrity": (.*)/.exec(tail(capsule, 100_000))[1];
        const digest = createHash('sha256').update(trailer).digest('hex').slice(0, 12);
        resolve({ cpu: user + system, digest });
      });
    });

  process.stdout.write(`${args.workload}, ${Number(args.rows).toLocaleString('en-US')} rows in scope\n`);
  for (let rep = 1; rep <= Number(args.reps); rep++) {
    for (const [name, run] of [
      ['raw COPY TO', raw],
      ...builds.map(([b, path, env]) => [b, () => cli(path, env)]),
    ]) {
      await query('checkpoint');
      const before = await serverCpu();
      const start = process.hrtime.bigint();
      const result = await run();
      const wall = Number(process.hrtime.bigint() - start) / 1e9;
      const serverSeconds = (await serverCpu()) - before;
      const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
      process.stdout.write(
        `[${rep}] ${name.padEnd(12)} wall ${wall.toFixed(2)} s  server CPU ${serverSeconds.toFixed(2)} s` +
          (result.cpu === undefined
            ? `  client CPU ${result.clientCpu.toFixed(2)} s`
            : `  CLI CPU ${result.cpu.toFixed(2)} s  integrity ${result.digest}`) +
          `  (load ${load})\n`,
      );
    }
  }
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
