#!/usr/bin/env node
// replay-env benchmark (docs/performance.md): export-postgres and materialize-postgres against raw COPY of
// the same rows, on the same server, in the same run; peak RSS of every replay-env process; CLI start-up.
// Prints a table and writes it as JSON to bench/results/.
//
//   npm run bench                                   # 1,000,000 rows in scope, embedded PostgreSQL
//   npm run bench -- --rows 1000000,3000000         # several sizes (peak RSS must not grow)
//   npm run bench -- --rows 200000 --repeat 3 --strategies copy
//   npm run bench -- --workloads realistic          # one workload (default: simple,realistic)
//   node bench/run.js --rows 1000000 --export-args "--jobs 2"      # extra export-postgres flags
//   node bench/run.js --strategies "" --node-args="--cpu-prof --cpu-prof-dir=/tmp/prof"   # node flags of the CLI
//   REPLAY_ENV_BENCH_DATABASE_URL=postgres://… npm run bench      # your own server (a superuser URL)
//   npm run bench -- --rows 200000 --strategies copy,copy:noverify   # A/B: value verification's cost
//   npm run bench -- --closure                      # the manifest with `closure: parents` (docs/app-manifest.md)
//   node bench/run.js --workloads parents --closure --rows 1000000,4000000 --strategies ""   # closure adding rows
//   REPLAY_ENV_CLOSURE_DIRECT=0 node bench/run.js --workloads parents --closure …   # the same, parents by passed keys
//   npm run bench -- --encrypt --workloads simple    # also export/materialize an age-encrypted capsule (vs plain)
//
// Fairness rules (why the baselines look the way they do):
// - raw export is `COPY (SELECT to_jsonb(x)::text FROM <same from> ORDER BY <same order>) TO STDOUT` of exactly the rows the
//   export writes, in the same order, into a file that is fsync'd — the tool writes and fsyncs a file too;
// - raw load is `COPY t FROM STDIN` (native text format, dumped beforehand, not timed) of the same rows into
//   the same empty schema, indexes and foreign keys included, in one transaction;
// - every timed step starts after a CHECKPOINT and on empty target tables (TRUNCATE), and raw and tool steps
//   alternate within each repetition, so background noise hits both sides; ratios are per repetition.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';

import pg from 'pg';
import copyStreams from 'pg-copy-streams';

import { DatabaseUrl } from '../dist/postgres/database-url.js';
import { startEmbeddedPostgres } from '../dist/postgres/embedded.js';
import { ageBench, printAgeCost } from './age.js';
import { exportArgs as exportCommand } from './export-args.js';
import { graphKeysCte } from './graph-keys.js';
import { cpuOf } from './server-cpu.js';
import { benchServerSettings } from './server-settings.js';
import { parents } from './workloads/parents.js';
import { realistic } from './workloads/realistic.js';
import { simple } from './workloads/simple.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'bin/run.js');
const probe = new URL('./rss-probe.js', import.meta.url).href;
const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    workloads: { type: 'string', default: 'simple,realistic' },
    strategies: { type: 'string', default: 'copy,jsonb' },
    repeat: { type: 'string', default: '2' },
    redaction: { type: 'string', default: 'safe' },
    'export-args': { type: 'string', default: '' },
    'materialize-args': { type: 'string', default: '' },
    'node-args': { type: 'string', default: '' },
    'startup-runs': { type: 'string', default: '7' },
    'skip-startup': { type: 'boolean', default: false },
    closure: { type: 'boolean', default: false },
    encrypt: { type: 'boolean', default: false },
    'keep-capsule': { type: 'string' },
    out: { type: 'string' },
  },
});
const sizes = args.rows.split(',').map(Number);
const strategies = args.strategies.split(',').filter(Boolean);
const repeat = Math.max(1, Number(args.repeat));
const exportExtra = args['export-args'].split(/\s+/).filter(Boolean);
const materializeExtra = args['materialize-args'].split(/\s+/).filter(Boolean);
const nodeExtra = args['node-args'].split(/\s+/).filter(Boolean);
const workloads = { simple, realistic, parents };
const selectedWorkloads = args.workloads
  .split(',')
  .filter(Boolean)
  .map((name) => {
    if (!workloads[name])
      throw new Error(`unknown workload ${name} (known: ${Object.keys(workloads).join(', ')})`);
    return workloads[name];
  });

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

async function fsyncFile(file) {
  const handle = await open(file, 'r+');
  await handle.sync();
  await handle.close();
}

/**
 * Raw export: the graph's keys (the workload's one query for them, as the export must find them too),
 * then each table's in-scope rows as `to_jsonb(x)::text` via COPY into one file, in the export's order,
 * fsync'd — the physical limit for export. Returns bytes, the graph query's and per-table seconds.
 * `expectedCte`: the keys computed before the timed steps (for the native dump), which these must equal.
 */
async function rawExport(url, workload, expectedCte, file) {
  const client = await connect(url);
  const perTable = {};
  const rows = {};
  try {
    const graphStart = process.hrtime.bigint();
    const keysCte = await graphKeysCte(client, workload);
    const graphSeconds = Number(process.hrtime.bigint() - graphStart) / 1e9;
    if (keysCte !== expectedCte) throw new Error('raw COPY TO: the graph keys changed between runs');
    const out = createWriteStream(file);
    out.setMaxListeners(0); // one pipeline per table into the same file (end: false)
    for (const t of workload.tables) {
      const { from, orderBy } = workload.scopeSql(t);
      const sql = `copy (${keysCte} select to_jsonb(x)::text from ${from} order by ${orderBy}) to stdout`;
      const start = process.hrtime.bigint();
      const copy = client.query(copyStreams.to(sql));
      await pipeline(copy, out, { end: false });
      perTable[t] = Number(process.hrtime.bigint() - start) / 1e9;
      rows[t] = copy.rowCount;
    }
    await new Promise((resolve, reject) => out.end((error) => (error ? reject(error) : resolve())));
    await fsyncFile(file);
    return { bytes: (await stat(file)).size, perTable, rows, graphSeconds };
  } finally {
    await client.end();
  }
}

/** Native COPY text of the in-scope rows, one file per table (not timed). */
async function dumpNative(url, workload, keysCte, dir) {
  const client = await connect(url);
  const files = {};
  for (const t of workload.tables) {
    const { from } = workload.scopeSql(t);
    files[t] = join(dir, `${t}.copy`);
    await pipeline(
      client.query(copyStreams.to(`copy (${keysCte} select x.* from ${from}) to stdout`)),
      createWriteStream(files[t]),
    );
  }
  await client.end();
  return files;
}

/** Raw load: native COPY of the same rows into the empty schema, one transaction. */
async function rawLoad(url, tables, files) {
  const client = await connect(url);
  try {
    return (
      await timed(async () => {
        await client.query('begin');
        for (const t of tables) {
          await pipeline(createReadStream(files[t]), client.query(copyStreams.from(`copy ${t} from stdin`)));
        }
        await client.query('commit');
      })
    ).seconds;
  } finally {
    await client.end();
  }
}

async function resetTarget(url, tables) {
  const client = await connect(url);
  await client.query(`truncate ${tables.join(', ')}`);
  await client.query('checkpoint');
  await client.end();
  syncPageCache();
}

async function checkpoint(url) {
  const client = await connect(url);
  await client.query('checkpoint');
  await client.end();
  syncPageCache();
}

/**
 * With fsync off (server-settings.js) a checkpoint leaves its pages dirty in the OS page cache, and the
 * kernel writes them back some 30 s later, during whichever timed step comes next (suspected cause of
 * slow first repetitions after seeding: raw COPY FROM 13.0 s against 8.6 s, an export +2.5 s of server
 * CPU). Written back before every timed step instead, so no step pays for an earlier one's writes.
 */
function syncPageCache() {
  execFileSync('sync');
}

/**
 * CPU seconds of the server's exited processes (the postmaster's cutime + cstime: backends and parallel
 * workers count once they exit), or NaN with an external server. Waits until no other client backend
 * is left, so the step's backend has been reaped.
 */
async function serverCpu(url) {
  if (!serverPid) return NaN;
  const client = await connect(url);
  try {
    for (let i = 0; i < 200; i++) {
      const { rows } = await client.query(
        `select count(*)::int as n from pg_stat_activity where backend_type in ('client backend', 'parallel worker') and pid <> pg_backend_pid()`,
      );
      if (rows[0].n === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await client.end();
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  return (await cpuOf(serverPid)).children;
}
let serverPid;

/**
 * CPU seconds (user + system, all threads) this process spent since `start` (process.cpuUsage()): the
 * raw baselines' own client, which runs in here and is otherwise idle, to compare with the CLI's CPU.
 */
function clientCpuSince(start) {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

/** Runs the built CLI; peak RSS comes from getrusage in the process itself (bench/rss-probe.js). */
function runCli(cliArgs, env, work) {
  const rssFile = join(work, `rss-${process.hrtime.bigint()}`);
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, [...nodeExtra, '--import', probe, cli, ...cliArgs], {
      env: { ...process.env, ...env, REPLAY_ENV_BENCH_RSS_FILE: rssFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', async (code) => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (code !== 0) {
        reject(
          new Error(
            `replay-env ${cliArgs[0]} exited ${code}: ${stderr.trim().split('\n').slice(-25).join(' | ')}`,
          ),
        );
        return;
      }
      const [peakKb, userUs, systemUs] = (await readFile(rssFile, 'utf8').catch(() => 'NaN NaN NaN'))
        .split(' ')
        .map(Number);
      await rm(rssFile, { force: true });
      resolve({
        seconds,
        peakMb: peakKb / 1024,
        cpuSeconds: (userUs + systemUs) / 1e6,
        systemCpuSeconds: systemUs / 1e6,
        result: JSON.parse(stdout),
      });
    });
  });
}

/** Wall time of short commands: median and best of `runs`. */
async function startup(runs) {
  const run = promisify(execFile);
  const cases = [
    ["node -e ''", ['-e', '']],
    ['replay-env --help', [cli, '--help']],
    [
      'replay-env playbook --app teamdesk.yaml',
      [cli, 'playbook', '--app', join(root, 'config/apps/teamdesk.yaml')],
    ],
    [
      'replay-env export-postgres --dry-run-sql',
      [
        cli,
        'export-postgres',
        '--app',
        join(root, 'config/apps/teamdesk.yaml'),
        '--subject',
        'tenant_id=acme',
        '--subject',
        'user_id=ada',
        '--dry-run-sql',
      ],
    ],
  ];
  const out = [];
  for (const [label, argv] of cases) {
    const samples = [];
    for (let i = 0; i < runs; i++) {
      const { seconds } = await timed(() => run(process.execPath, argv, { cwd: root, maxBuffer: 1 << 24 }));
      samples.push(seconds * 1000);
    }
    samples.sort((a, b) => a - b);
    out.push({ command: label, medianMs: samples[Math.floor(samples.length / 2)], bestMs: samples[0] });
  }
  return out;
}

function summarize(step, samples, extra = {}) {
  const seconds = samples.map((s) => s.seconds);
  const peaks = samples.map((s) => s.peakMb).filter((v) => v !== undefined && !Number.isNaN(v));
  return {
    step,
    best: Math.min(...seconds),
    worst: Math.max(...seconds),
    samples: seconds,
    peakMb: peaks.length > 0 ? Math.max(...peaks) : null,
    cpuSeconds: samples.map((s) => s.cpuSeconds).filter((v) => v !== undefined),
    systemCpuSeconds: samples.map((s) => s.systemCpuSeconds).filter((v) => v !== undefined),
    phasesPerRun: samples.map((s) => s.result?.phases).filter((v) => v !== undefined),
    serverCpuSeconds: samples
      .map((s) => s.serverCpuSeconds)
      .filter((v) => v !== undefined && !Number.isNaN(v)),
    ...extra,
  };
}

async function benchSize(admin, workload, totalRows, work) {
  const { tables } = workload;
  const adminClient = await connect(admin);
  for (const db of ['bench_source', 'bench_replay']) {
    await adminClient.query(`drop database if exists ${db} with (force)`);
    await adminClient.query(`create database ${db}`);
  }
  await adminClient.end();
  const sourceUrl = admin.withDatabase('bench_source');
  const replayUrl = admin.withDatabase('bench_replay');
  process.stderr.write(`${workload.name}: seeding ${totalRows.toLocaleString('en-US')} rows in scope …\n`);
  const source = await connect(sourceUrl);
  const counts = await workload.seed(source, totalRows);
  await source.end();
  const replay = await connect(replayUrl);
  await replay.query(workload.schema);
  await replay.end();
  const manifestPath = join(work, 'bench.json');
  await writeFile(manifestPath, JSON.stringify(workload.manifest({ closure: args.closure }), null, 2));
  const env = {
    BENCH_PROD_DATABASE_URL: sourceUrl.connectionString(),
    BENCH_REPLAY_DATABASE_URL: replayUrl.connectionString(),
  };
  const keysClient = await connect(sourceUrl);
  const keysCte = await graphKeysCte(keysClient, workload).finally(() => keysClient.end());
  const native = await dumpNative(sourceUrl, workload, keysCte, work);
  let nativeBytes = 0;
  for (const file of Object.values(native)) nativeBytes += (await stat(file)).size;
  const capsule = join(work, 'capsule.json');
  const age = args.encrypt ? await ageBench(work, capsule) : undefined;
  const samples = {
    ageExport: [],
    ageMaterialize: [],
    rawExport: [],
    export: [],
    rawLoad: [],
    ...Object.fromEntries(strategies.map((s) => [s, []])),
  };
  let rawBytes = 0;
  let capsuleBytes = 0;
  let exportPhases;
  const materializePhases = {};
  for (let rep = 1; rep <= repeat; rep++) {
    process.stderr.write(`[${rep}/${repeat}] raw COPY export …\n`);
    await checkpoint(sourceUrl);
    const rawExportCpu = await serverCpu(admin);
    const rawClientCpu = process.cpuUsage();
    const raw = await timed(() => rawExport(sourceUrl, workload, keysCte, join(work, 'raw.jsonl')));
    rawBytes = raw.value.bytes;
    samples.rawExport.push({
      seconds: raw.seconds,
      cpuSeconds: clientCpuSince(rawClientCpu),
      perTable: raw.value.perTable,
      graphSeconds: raw.value.graphSeconds,
      serverCpuSeconds: (await serverCpu(admin)) - rawExportCpu,
    });
    await rm(join(work, 'raw.jsonl'));

    process.stderr.write(`[${rep}/${repeat}] export-postgres …\n`);
    await rm(capsule, { force: true });
    await checkpoint(sourceUrl);
    const exportArgs = [
      ...exportCommand({ manifestPath, workload, capsule, redaction: args.redaction }),
      '--profile',
      ...exportExtra,
    ];
    const exportCpu = await serverCpu(admin);
    const exp = await runCli(exportArgs, env, work);
    exp.serverCpuSeconds = (await serverCpu(admin)) - exportCpu;
    // Fair only if both sides move the same rows (with closure: the same final row sets).
    for (const t of tables)
      if (exp.result.rowCounts[t] !== raw.value.rows[t])
        throw new Error(`${t}: export wrote ${exp.result.rowCounts[t]} rows, raw COPY ${raw.value.rows[t]}`);
    capsuleBytes = (await stat(capsule)).size;
    exportPhases = exp.result.phases;
    samples.export.push(exp);
    if (age) {
      process.stderr.write(`[${rep}/${repeat}] export-postgres --encrypt-to …\n`);
      await checkpoint(sourceUrl);
      samples.ageExport.push(await age.exportCapsule((cliArgs) => runCli(cliArgs, env, work), exportArgs));
    }

    process.stderr.write(`[${rep}/${repeat}] raw COPY load …\n`);
    await resetTarget(replayUrl, tables);
    const rawCpu = await serverCpu(admin);
    const rawLoadClientCpu = process.cpuUsage();
    const rawSeconds = await rawLoad(replayUrl, tables, native);
    samples.rawLoad.push({
      seconds: rawSeconds,
      cpuSeconds: clientCpuSince(rawLoadClientCpu),
      serverCpuSeconds: (await serverCpu(admin)) - rawCpu,
    });

    for (const strategy of strategies) {
      process.stderr.write(`[${rep}/${repeat}] materialize-postgres --load-strategy ${strategy} …\n`);
      // `<strategy>:noverify`: the same load without value verification (REPLAY_ENV_MATERIALIZE_VERIFY_VALUES=0);
      // `<strategy>:keepindexes`: with --keep-indexes (secondary indexes maintained row by row);
      // `<strategy>:keepfks`: with --keep-foreign-keys (foreign keys checked row by row). Combinable.
      const [loadStrategy, ...variants] = strategy.split(':');
      const verifying = !variants.includes('noverify');
      await resetTarget(replayUrl, tables);
      const cpuBefore = await serverCpu(admin);
      const materializeArgs = [
        'materialize-postgres',
        '--app',
        manifestPath,
        '--capsule',
        capsule,
        '--load-strategy',
        loadStrategy,
        '--json',
        ...(variants.includes('keepindexes') ? ['--keep-indexes'] : []),
        ...(variants.includes('keepfks') ? ['--keep-foreign-keys'] : []),
        ...materializeExtra,
      ];
      const mat = await runCli(
        materializeArgs,
        verifying ? env : { ...env, REPLAY_ENV_MATERIALIZE_VERIFY_VALUES: '0' },
        work,
      );
      mat.serverCpuSeconds = (await serverCpu(admin)) - cpuBefore;
      if (mat.result.verified !== verifying)
        throw new Error(`materialize (${strategy}) verified: ${mat.result.verified}`);
      materializePhases[strategy] = mat.result.phases;
      samples[strategy].push(mat);
      if (age && strategy === strategies[0]) {
        process.stderr.write(`[${rep}/${repeat}] materialize-postgres --identity (${strategy}) …\n`);
        await resetTarget(replayUrl, tables);
        samples.ageMaterialize.push(
          await age.materialize((cliArgs) => runCli(cliArgs, env, work), materializeArgs),
        );
      }
    }
  }
  if (args['keep-capsule'])
    await pipeline(createReadStream(capsule), createWriteStream(args['keep-capsule']));
  await rm(capsule, { force: true });
  if (age) await age.cleanUp();
  for (const file of Object.values(native)) await rm(file, { force: true });

  // Ratios pair each tool run with the raw run of the same repetition (same background conditions).
  const paired = (rawSamples, toolSamples) => {
    const ratios = toolSamples.map((s, i) => rawSamples[i].seconds / s.seconds);
    return { ratioBest: Math.max(...ratios), ratioWorst: Math.min(...ratios) };
  };
  const steps = [
    summarize('raw COPY TO (row JSON → file)', samples.rawExport, { bytes: rawBytes }),
    summarize(`export-postgres (${args.redaction}${args.closure ? ', closure' : ''})`, samples.export, {
      bytes: capsuleBytes,
      ...paired(samples.rawExport, samples.export),
      phases: exportPhases,
    }),
    summarize('raw COPY FROM (native text)', samples.rawLoad, { bytes: nativeBytes }),
    ...strategies.map((strategy) =>
      summarize(`materialize-postgres (${strategy})`, samples[strategy], {
        bytes: capsuleBytes,
        ...paired(samples.rawLoad, samples[strategy]),
        phases: materializePhases[strategy],
      }),
    ),
    ...(age ? age.steps(samples, strategies[0], summarize) : []),
  ];
  // Per table: the raw COPY of that table vs the export's `table:<name>` phase, paired per repetition;
  // first the graph's keys: raw's one query for them vs the export's `graph` phase.
  const tableRow = (table, rows, raw, tool) => {
    const ratios = raw.map((r, i) => r / tool[i]);
    return { table, rows, raw, tool, ratioWorst: Math.min(...ratios), ratioBest: Math.max(...ratios) };
  };
  const toolSeconds = (phase) => samples.export.map((s) => (s.result.phases?.[phase] ?? NaN) / 1000);
  const perTable = [
    tableRow(
      '(graph keys)',
      null,
      samples.rawExport.map((s) => s.graphSeconds),
      toolSeconds('graph'),
    ),
    ...tables.map((table) =>
      tableRow(
        table,
        samples.export[0].result.rowCounts[table],
        samples.rawExport.map((s) => s.perTable[table]),
        toolSeconds(`table:${table}`),
      ),
    ),
  ];
  return { workload: workload.name, rowsInScope: totalRows, counts, steps, perTable };
}

async function main() {
  const external = process.env.REPLAY_ENV_BENCH_DATABASE_URL;
  const server = external
    ? undefined
    : await startEmbeddedPostgres({
        settings: benchServerSettings,
      });
  const admin = external ? DatabaseUrl.parse(external) : server.adminUrl;
  serverPid = server?.pid;
  const work = await mkdtemp(join(tmpdir(), 'replay-env-bench-'));
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    repeat,
    exportArgs: exportExtra,
    materializeArgs: materializeExtra,
    workloads: selectedWorkloads.map((w) => w.name),
    sizes: [],
    startup: undefined,
  };
  try {
    for (const size of sizes) {
      for (const workload of selectedWorkloads) {
        result.sizes.push(await benchSize(admin, workload, size, work));
        printSize(result.sizes.at(-1));
      }
    }
    if (!args['skip-startup']) {
      process.stderr.write('CLI start-up …\n');
      result.startup = await startup(Number(args['startup-runs']));
      printStartup(result.startup);
    }
    const nodeBaseline = await promisify(execFile)(process.execPath, [
      '-e',
      'process.stdout.write(String(process.resourceUsage().maxRSS))',
    ]);
    result.nodeBaselinePeakMb = Number(nodeBaseline.stdout) / 1024;
    process.stdout.write(`(a bare \`node -e\` peaks at ${result.nodeBaselinePeakMb.toFixed(0)} MB)\n`);
    const outFile = args.out ?? join(root, 'bench', 'results', `bench-${sizes.join('-')}.json`);
    await mkdir(join(outFile, '..'), { recursive: true });
    await writeFile(outFile, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`written: ${outFile}\n`);
  } finally {
    await rm(work, { recursive: true, force: true });
    await server?.stop();
  }
}

function printSize(size) {
  const n = size.rowsInScope;
  const widths = [36, 15, 12, 10, 11, 12];
  const line = (cells) =>
    cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('');
  process.stdout.write(
    `\n[${size.workload}] ${n.toLocaleString('en-US')} rows in scope ${JSON.stringify(size.counts)}, ${repeat} run(s) each\n`,
  );
  process.stdout.write(`${line(['step', 'seconds', 'rows/s', 'MB/s', 'peak RSS', 'vs raw'])}\n`);
  for (const r of size.steps) {
    const secs = repeat > 1 ? `${r.best.toFixed(2)}–${r.worst.toFixed(2)}` : r.best.toFixed(2);
    const mbs = r.bytes ? (r.bytes / 1e6 / r.best).toFixed(1) : '';
    const ratio =
      r.costBest !== undefined
        ? ''
        : r.ratioBest === undefined
          ? '1'
          : repeat > 1
            ? `${r.ratioWorst.toFixed(2)}–${r.ratioBest.toFixed(2)}×`
            : `${r.ratioBest.toFixed(2)}×`;
    const peak = r.peakMb === null ? '' : `${r.peakMb.toFixed(0)} MB`;
    process.stdout.write(
      `${line([r.step, secs, Math.round(n / r.best).toLocaleString('en-US'), mbs, peak, ratio])}\n`,
    );
  }
  for (const r of size.steps.filter((step) => step.cpuSeconds.length > 0)) {
    const cpu = r.cpuSeconds.map((v) => v.toFixed(2)).join(', ');
    process.stdout.write(`  CPU of ${r.step} (user + system, s): ${cpu}\n`);
  }
  for (const r of size.steps.filter((step) => step.serverCpuSeconds?.length > 0)) {
    const cpu = r.serverCpuSeconds.map((v) => v.toFixed(2)).join(', ');
    process.stdout.write(`  server CPU of ${r.step} (backend + parallel workers, s): ${cpu}\n`);
  }
  printAgeCost(size, (text) => process.stdout.write(text));
  const span = (values) => {
    const best = Math.min(...values);
    const worst = Math.max(...values);
    return repeat > 1 ? `${best.toFixed(2)}–${worst.toFixed(2)}` : best.toFixed(2);
  };
  process.stdout.write(`${line(['  per table (export)', 'raw s', 'tool s', 'rows', '', 'vs raw'])}\n`);
  for (const t of size.perTable) {
    const ratio =
      repeat > 1 ? `${t.ratioWorst.toFixed(2)}–${t.ratioBest.toFixed(2)}×` : `${t.ratioBest.toFixed(2)}×`;
    process.stdout.write(
      `${line([`  ${t.table}`, span(t.raw), span(t.tool), t.rows === null ? '' : (t.rows ?? 0).toLocaleString('en-US'), '', ratio])}\n`,
    );
  }
}
function printStartup(rows) {
  process.stdout.write('\nstart-up (wall ms)          median    best\n');
  for (const r of rows) {
    process.stdout.write(
      `${r.command.padEnd(44)}${r.medianMs.toFixed(0).padStart(7)}${r.bestMs.toFixed(0).padStart(8)}\n`,
    );
  }
}

await main();
