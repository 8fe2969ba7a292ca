#!/usr/bin/env node
// A/B of materialize-postgres between builds (docs/performance.md): one embedded server, one replay database
// per workload, capsules kept by `bench/run.js --keep-capsule`; builds alternate within each repetition.
// Prints per run the CLI's CPU (user + system, /usr/bin/time), the server's CPU (the postmaster's reaped
// children, so the backend's once it exits) and wall time against raw COPY FROM of the same rows.
//
//   node bench/run.js --rows 300000 --workloads simple --strategies "" --repeat 1 --skip-startup --keep-capsule /tmp/ab/simple.json
//   node bench/run.js --rows 300000 --workloads realistic --strategies "" --repeat 1 --skip-startup --keep-capsule /tmp/ab/realistic.json
//   node bench/materialize-ab.js --capsules /tmp/ab --builds old=/path/to/old/checkout,new=. --reps 2
// A build is a checkout with dist/, bin/, schemas/, package.json and oclif.manifest.json (node_modules may be a symlink).
import { spawn } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';

import pg from 'pg';
import copyStreams from 'pg-copy-streams';

import { startEmbeddedPostgres } from '../dist/postgres/embedded.js';
import { benchServerSettings } from './server-settings.js';
import { realistic } from './workloads/realistic.js';
import { simple } from './workloads/simple.js';

const { values: args } = parseArgs({
  options: {
    builds: { type: 'string', default: 'new=.' },
    capsules: { type: 'string', default: '/tmp/ab' },
    reps: { type: 'string', default: '2' },
    variants: { type: 'string', default: 'copy,copy:noverify' },
    workloads: { type: 'string', default: 'simple,realistic' },
    'node-args': { type: 'string', default: '' },
  },
});
const builds = args.builds.split(',').map((b) => b.split('='));
const dir = args.capsules;
const workloads = args.workloads.split(',').map((n) => ({ simple, realistic })[n]);
const variants = args.variants.split(',');

const server = await startEmbeddedPostgres({
  settings: benchServerSettings,
});
const pmStat = () => {
  const f = readFileSync(`/proc/${server.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // fields after comm: state(0) ... utime=11, stime=12, cutime=13, cstime=14 (0-based after ')')
  return (Number(f[13]) + Number(f[14])) / 100;
};
const connect = async (url) => {
  const c = new pg.Client({ connectionString: url.connectionString() });
  await c.connect();
  return c;
};
/** The load's phases (s), those above 0.05 s. */
const phaseText = (phases = {}) =>
  Object.entries(phases)
    .filter(([, ms]) => ms >= 50)
    .map(([name, ms]) => `${name} ${(ms / 1000).toFixed(1)}`)
    .join(' ');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const results = [];
try {
  const admin = await connect(server.adminUrl);
  for (const w of workloads) {
    await admin.query(`create database r_${w.name}`);
    const url = server.adminUrl.withDatabase(`r_${w.name}`);
    const c = await connect(url);
    await c.query(w.schema);
    await c.end();
    w.url = url;
    w.manifestPath = `${dir}/${w.name}.manifest.json`;
    await writeFile(w.manifestPath, JSON.stringify(w.manifest({}), null, 2));
  }
  await admin.end();
  const truncate = async (w) => {
    const c = await connect(w.url);
    await c.query(`truncate ${w.tables.join(', ')}`);
    await c.query('checkpoint');
    await c.end();
  };
  const cli = async (build, w, variant, extraNode = []) => {
    await truncate(w);
    const [strategy, v] = variant.split(':');
    const env = {
      ...process.env,
      BENCH_PROD_DATABASE_URL: server.adminUrl.withDatabase('postgres').connectionString(),
      BENCH_REPLAY_DATABASE_URL: w.url.connectionString(),
      ...(v === 'noverify' ? { REPLAY_ENV_MATERIALIZE_VERIFY_VALUES: '0' } : {}),
    };
    const pm0 = pmStat();
    const t0 = process.hrtime.bigint();
    const out = await new Promise((resolve, reject) => {
      const child = spawn(
        '/usr/bin/time',
        [
          '-f',
          '%U %S',
          process.execPath,
          ...extraNode,
          `${build}/bin/run.js`,
          'materialize-postgres',
          '--app',
          w.manifestPath,
          '--capsule',
          `${dir}/${w.name}.json`,
          '--load-strategy',
          strategy,
          '--json',
        ],
        { env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let so = '';
      let se = '';
      child.stdout.on('data', (d) => (so += d));
      child.stderr.on('data', (d) => (se += d));
      child.on('exit', (code) =>
        code === 0 ? resolve({ so, se }) : reject(new Error(so.slice(-2000) + se.slice(-2000))),
      );
    });
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    await sleep(200);
    const serverCpu = pmStat() - pm0;
    const [u, s] = out.se.trim().split('\n').at(-1).split(' ').map(Number);
    const json = JSON.parse(out.so);
    return {
      wall,
      node: u + s,
      server: serverCpu,
      verified: json.verified,
      directCopy: json.directCopy?.length,
      phases: json.phases,
    };
  };
  const raw = async (w) => {
    await truncate(w);
    const c = await connect(w.url);
    const pid = (await c.query('select pg_backend_pid() p')).rows[0].p;
    const st = () => {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return (Number(f[11]) + Number(f[12])) / 100;
    };
    const c0 = st();
    const t0 = process.hrtime.bigint();
    await c.query('begin');
    for (const t of w.tables)
      await pipeline(
        createReadStream(`${dir}/${w.name}-${t}.copy`),
        c.query(copyStreams.from(`copy ${t} from stdin`)),
      );
    await c.query('commit');
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const server = st() - c0;
    await c.end();
    return { wall, server };
  };
  // native dumps from a first load
  for (const w of workloads) {
    await cli(builds[0][1], w, 'copy:noverify');
    const c = await connect(w.url);
    for (const t of w.tables)
      await pipeline(
        c.query(copyStreams.to(`copy ${t} to stdout`)),
        createWriteStream(`${dir}/${w.name}-${t}.copy`),
      );
    await c.end();
  }
  const extraNode = args['node-args'].split(/\s+/).filter(Boolean);
  for (let rep = 0; rep < Number(args.reps); rep++) {
    for (const w of workloads) {
      const r = await raw(w);
      console.log(`${w.name} rep${rep} raw wall ${r.wall.toFixed(2)} server ${r.server.toFixed(2)}`);
      for (const variant of variants) {
        for (const [name, dir] of rep % 2 ? [...builds].reverse() : builds) {
          const m = await cli(dir, w, variant, extraNode);
          const line = `${w.name} rep${rep} ${name.padEnd(5)} ${variant.padEnd(14)} wall ${m.wall.toFixed(2)} node ${m.node.toFixed(2)} server ${m.server.toFixed(2)} ratio ${(r.wall / m.wall).toFixed(2)} verified ${m.verified} direct ${m.directCopy} phases ${phaseText(m.phases)}`;
          console.log(line);
          results.push({ w: w.name, name, variant, ...m, raw: r.wall });
        }
      }
    }
  }
  // summary
  const groups = {};
  for (const r of results) (groups[`${r.w} ${r.name} ${r.variant}`] ??= []).push(r);
  console.log('--- summary (node cpu / server cpu / wall ratio)');
  for (const [k, rs] of Object.entries(groups))
    console.log(
      `${k.padEnd(35)} node ${rs.map((r) => r.node.toFixed(2)).join(',')}  server ${rs.map((r) => r.server.toFixed(2)).join(',')}  ratio ${rs.map((r) => (r.raw / r.wall).toFixed(2)).join(',')}`,
    );
} finally {
  await server.stop();
}
