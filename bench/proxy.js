#!/usr/bin/env node
// Session proxy benchmark (docs/sessions.md): pgbench select-only directly against PostgreSQL and through
// `replay-env record` (recording on, every session written to disk), in the same run, printed as ratios;
// then peak RSS of the proxy while N clients each read a large result at once.
//
//   npm run build && node bench/proxy.js                      # 8 clients, 3 × 10 s rounds, 8 × 1M rows
//   node bench/proxy.js --clients 8 --seconds 10 --rounds 3 --big-rows 1000000 --big-clients 8
//   node bench/proxy.js --protocol prepared                   # pgbench -M simple|extended|prepared
//   node bench/proxy.js --script tpcb                         # TPC-B-like instead of select-only (-S)
//   node bench/proxy.js --big-clients 0                       # TPS only, no big-result memory run
//
// Besides TPS it prints the proxy's own CPU time per proxied transaction (utime+stime from /proc, counted
// until the round's session files are finalised), a figure other load on the machine disturbs less than
// TPS. A bare Node relay (net sockets piped both ways, nothing parsed or recorded, its own process) runs
// in the same rounds: the physical reference for any Node proxy on this machine.
//
// Fairness: direct, bare-relay and proxied rounds alternate; both use plaintext (PGSSLMODE=disable on the client side,
// the embedded server has no TLS), the same pgbench binary, clients and duration. The proxy runs as the
// built CLI in its own process, so its RSS is measured alone (VmHWM from /proc).
import { execFile, spawn } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';

import pg from 'pg';

import { DatabaseUrl } from '../dist/postgres/database-url.js';
import { startEmbeddedPostgres } from '../dist/postgres/embedded.js';
import { FrontendDecoder } from '../dist/session/frontend-decoder.js';
import { SessionRecorder } from '../dist/session/session-recorder.js';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const { values: args } = parseArgs({
  options: {
    clients: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    protocol: { type: 'string', default: 'simple' },
    script: { type: 'string', default: 'select-only' },
    'big-rows': { type: 'string', default: '1000000' },
    'big-clients': { type: 'string', default: '8' },
    /** Directory for a V8 CPU profile of the proxy process (node --cpu-prof), written when it stops. */
    profile: { type: 'string' },
  },
});

const server = await startEmbeddedPostgres({ settings: { fsync: 'off', max_connections: '100' } });
const sessionsDir = await mkdtemp(join(tmpdir(), 'replay-env-bench-sessions-'));
let proxy;
let relay;
try {
  const url = server.adminUrl;
  const env = { ...process.env, PGPASSWORD: url.password, PGSSLMODE: 'disable' };
  await run(
    'pgbench',
    ['-i', '-s', '1', '-q', '-h', url.host, '-p', String(url.port), '-U', url.user, 'postgres'],
    { env },
  );
  proxy = await startProxy(url.connectionString(), sessionsDir);
  relay = await startBareRelay(url.port);
  const pgbench = async (port, user, password) => {
    const { stdout } = await run(
      'pgbench',
      [
        ...(args.script === 'tpcb' ? [] : ['-S']),
        '-n',
        '-M',
        args.protocol,
        '-c',
        args.clients,
        '-j',
        '2',
        '-T',
        args.seconds,
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        user,
        'postgres',
      ],
      { env: { ...env, PGPASSWORD: password } },
    );
    return {
      tps: Number(/tps = ([\d.]+)/.exec(stdout)[1]),
      transactions: Number(/actually processed: (\d+)/.exec(stdout)[1]),
    };
  };
  const rows = [];
  for (let round = 1; round <= Number(args.rounds); round += 1) {
    const { tps: direct } = await pgbench(url.port, url.user, url.password);
    const relayCpuBefore = await cpuMs(relay.pid);
    const bare = await pgbench(relay.port, url.user, url.password);
    const relayCpu = ((await cpuMs(relay.pid)) - relayCpuBefore) / bare.transactions;
    const cpuBefore = await cpuMs(proxy.pid);
    const { tps: proxied, transactions } = await pgbench(proxy.port, 'bench', 'bench-pw');
    // The proxy's CPU counts until this round's session files are written (finalising included).
    await finalised(sessionsDir);
    const cpuPerTransaction = ((await cpuMs(proxy.pid)) - cpuBefore) / transactions;
    rows.push({
      round,
      direct,
      proxied,
      ratio: proxied / direct,
      cpuPerTransaction,
      bareRatio: bare.tps / direct,
      relayCpu,
    });
    console.log(
      `round ${round}: direct ${direct.toFixed(0)} tps | bare relay ${bare.tps.toFixed(0)} tps, ratio ${(bare.tps / direct).toFixed(2)}, relay CPU ${(relayCpu * 1000).toFixed(0)} µs/tx | proxy (recording) ${proxied.toFixed(0)} tps, ratio ${(proxied / direct).toFixed(2)}, proxy CPU ${(cpuPerTransaction * 1000).toFixed(0)} µs/tx`,
    );
  }
  const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const spread = (key, digits) => {
    const values = rows.map((row) => row[key]).sort((a, b) => a - b);
    return `${values[0].toFixed(digits)}–${values.at(-1).toFixed(digits)}`;
  };
  console.log(
    `pgbench ${args.script === 'tpcb' ? 'TPC-B-like' : '-S'} -M ${args.protocol} -c ${args.clients}: proxy (recording on) median ${median(rows.map((row) => row.ratio)).toFixed(2)}× direct TPS (rounds ${spread('ratio', 2)}), proxy CPU ${(median(rows.map((row) => row.cpuPerTransaction)) * 1000).toFixed(0)} µs/tx; bare relay median ${median(rows.map((row) => row.bareRatio)).toFixed(2)}× (rounds ${spread('bareRatio', 2)}), relay CPU ${(median(rows.map((row) => row.relayCpu)) * 1000).toFixed(0)} µs/tx`,
  );

  if (args.script !== 'tpcb' && args.protocol === 'simple') await recorderAlone();

  // Memory: N clients each read a big result through the proxy at the same time.
  if (Number(args['big-clients']) > 0) await bigResults();
} finally {
  relay?.child.kill('SIGTERM');
  proxy?.child.kill('SIGTERM');
  await new Promise((resolve) => (proxy ? proxy.child.once('exit', resolve) : resolve()));
  await server.stop();
  await rm(sessionsDir, { recursive: true, force: true });
}

async function bigResults() {
  const before = await vmHwm(proxy.pid);
  const bigRows = Number(args['big-rows']);
  const started = Date.now();
  await Promise.all(
    Array.from({ length: Number(args['big-clients']) }, async () => {
      const client = new pg.Client({
        host: '127.0.0.1',
        port: proxy.port,
        user: 'bench',
        password: 'bench-pw',
        database: 'postgres',
      });
      await client.connect();
      // Rows are counted by the server-side cursor-less query; the client discards them as they come.
      const result = await client.query({
        text: `select g, md5(g::text) from generate_series(1, ${bigRows}) g`,
        rowMode: 'array',
      });
      if (result.rowCount !== bigRows) throw new Error(`expected ${bigRows} rows, got ${result.rowCount}`);
      await client.end();
    }),
  );
  const peak = await vmHwm(proxy.pid);
  console.log(
    `${args['big-clients']} concurrent ${bigRows.toLocaleString('en')}-row results through the proxy in ${((Date.now() - started) / 1000).toFixed(1)} s: proxy peak RSS ${(peak / 1024).toFixed(0)} MB (${(before / 1024).toFixed(0)} MB before)`,
  );
}

/**
 * The recorder's own CPU per select-only transaction, without sockets: pgbench -S's Query and the
 * server's answer (RowDescription, DataRow, CommandComplete, ReadyForQuery) fed through the proxy's
 * frontend decoder and SessionRecorder (decoding, tracking, journal lines, one synchronous journal
 * write per answer, as in the proxy). Best of 5 passes of 100 000; load disturbs it far less than TPS.
 */
async function recorderAlone() {
  const message = (code, body) => {
    const bytes = Buffer.alloc(5 + body.length);
    bytes.write(code, 0, 'latin1');
    bytes.writeInt32BE(4 + body.length, 1);
    body.copy(bytes, 5);
    return bytes;
  };
  const cstring = (text) => Buffer.from(`${text}\0`);
  const field = Buffer.alloc(18);
  field.writeUInt32BE(23, 6); // int4
  field.writeInt16BE(4, 10);
  field.writeInt32BE(-1, 12);
  const value = Buffer.from('-2511');
  const row = Buffer.alloc(6);
  row.writeInt16BE(1, 0);
  row.writeInt32BE(value.length, 2);
  const answer = Buffer.concat([
    message('T', Buffer.concat([Buffer.from([0, 1]), cstring('abalance'), field])),
    message('D', Buffer.concat([row, value])),
    message('C', cstring('SELECT 1')),
    message('Z', Buffer.from('I')),
  ]);
  const queries = Array.from({ length: 1000 }, (_, index) =>
    message(
      'Q',
      cstring(`SELECT abalance FROM pgbench_accounts WHERE aid = ${1 + ((index * 7919) % 100000)};`),
    ),
  );
  const dir = await mkdtemp(join(tmpdir(), 'replay-env-bench-recorder-'));
  const decoder = new FrontendDecoder();
  const startup = Buffer.concat([Buffer.alloc(8), Buffer.from('user\0bench\0\0')]);
  startup.writeInt32BE(startup.length, 0);
  startup.writeInt32BE(3 << 16, 4);
  decoder.push(startup);
  const recorder = new SessionRecorder({
    sessionId: 'bench',
    pseudoUser: 'bench',
    target: DatabaseUrl.parse('postgres://bench@127.0.0.1:5432/postgres'),
    sessionsDir: dir,
    redaction: [],
    parameters: [
      ['client_encoding', 'UTF8'],
      ['TimeZone', 'UTC'],
    ],
    onEncoding: () => {},
    onEvent: () => {},
    onSessionFile: () => {},
  });
  const passes = [];
  const count = 100_000;
  for (let pass = 0; pass < 5; pass += 1) {
    const before = process.cpuUsage();
    for (let index = 0; index < count; index += 1) {
      for (const packet of decoder.push(Buffer.from(queries[index % 1000]))) recorder.frontend(packet);
      recorder.backend(Buffer.from(answer));
    }
    const used = process.cpuUsage(before);
    passes.push((used.user + used.system) / count);
  }
  if (recorder.queryCount !== 5 * count) throw new Error(`recorded ${recorder.queryCount} queries`);
  // Not finalised (a million events; finalising is measured with the proxy above): its folder goes.
  await rm(dir, { recursive: true, force: true });
  console.log(
    `recorder alone (this process, no sockets): ${Math.min(...passes).toFixed(1)} µs CPU per select-only transaction (best of 5 × ${count.toLocaleString('en')})`,
  );
}

/**
 * The physical reference: a plain Node `net` relay (one write per chunk each way, no parsing, no
 * recording) in its own process, to the same server, measured in the same rounds.
 */
async function startBareRelay(targetPort) {
  const source = `
    const net = require('node:net');
    const server = net.createServer((client) => {
      client.setNoDelay(true);
      const upstream = net.connect(${targetPort}, '127.0.0.1');
      upstream.setNoDelay(true);
      client.pipe(upstream);
      upstream.pipe(client);
      const end = () => { client.destroy(); upstream.destroy(); };
      client.on('error', end); upstream.on('error', end); client.on('close', end); upstream.on('close', end);
    });
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;
  const child = spawn(process.execPath, ['-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    child.stdout.once('data', (chunk) => resolve(Number(String(chunk).trim())));
    child.once('exit', () => reject(new Error('bare relay exited')));
  });
  return { child, port, pid: child.pid };
}

async function startProxy(target, dir) {
  const child = spawn(
    process.execPath,
    [
      ...(args.profile ? ['--cpu-prof', '--cpu-prof-dir', args.profile] : []),
      cli,
      'record',
      '--json',
      '--listen',
      '127.0.0.1:0',
      '--target-url',
      `${target}?sslmode=disable`,
      '--pseudo-user',
      'bench:bench-pw',
      '--sessions-dir',
      dir,
      '--no-client-tls',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  const port = await new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      const line = stderr.split('\n').find((text) => text.includes('"event":"ready"'));
      if (line) resolve(JSON.parse(line).address.port);
    });
    child.once('exit', () => reject(new Error(`record exited: ${stderr}`)));
  });
  return { child, port, pid: child.pid };
}

/** Waits until no session of the proxy is still a journal (all finalised), at most 60 s. */
async function finalised(dir) {
  for (let waited = 0; waited < 60_000; waited += 50) {
    if (!(await readdir(dir)).some((name) => name.endsWith('.journal'))) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('session files not finalised after 60 s');
}

/** CPU time (user + system) the process has used, in ms (/proc/PID/stat, clock ticks of 10 ms). */
async function cpuMs(pid) {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function vmHwm(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)[1]);
}
