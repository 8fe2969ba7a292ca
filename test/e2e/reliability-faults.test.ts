import { mkdir, mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { execa } from 'execa';
import pg from 'pg';
import { beforeAll, describe, expect } from 'vitest';

import { loadManifest, type ParsedManifest } from '../../src/manifest/index.js';
import { exportCapsule } from '../../src/services/export.js';
import { startRecordingProxy } from '../../src/services/record.js';
import { proxyClient } from '../integration/session/helpers.js';
import { filesBesidesAudit } from '../setup/capsule-folder.js';
import { dumpTables } from '../setup/capsules.js';
import { type CliResult, repoRoot, runCli } from '../setup/cli.js';
import { dbTest, type TestDatabase, testerPassword } from '../setup/database.js';
import { exportArgs } from '../setup/load-command.js';

// Faults outside replay-env's control (the network, the server, the disk), for every command that
// meets them: one clear line, a non-zero exit code of the right kind, nothing half-written, the replay
// database exactly as before, and never the password.

const app = join(repoRoot, 'config/apps/teamdesk.yaml');
const runJs = join(repoRoot, 'bin/run.js');
const teamdeskTables = ['tenants', 'users', 'tickets', 'comments', 'reactions', 'audit_events'];
const subject = ['--subject', 'tenant_id=acme', '--subject', 'user_id=ada'];
let manifest: ParsedManifest;
let schemaSql: string;
let seedSql: string;

beforeAll(async () => {
  manifest = await loadManifest(app);
  schemaSql = await readFile(join(repoRoot, 'config/apps/teamdesk/schema.sql'), 'utf8');
  seedSql = await readFile(join(repoRoot, 'config/apps/teamdesk/seed.sql'), 'utf8');
});

interface Setup {
  source: TestDatabase;
  replay: TestDatabase;
  dir: string;
  capsule: string;
  session: string;
}

/** A seeded source, a capsule of ada@acme, a recorded session and a replay DB holding data of its own. */
async function setup(db: TestDatabase): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'reliability-faults-'));
  await db.query(schemaSql);
  await db.query(seedSql);
  const replay = await db.sibling();
  await replay.query(schemaSql);
  await replay.query(seedSql);
  await replay.query(`update users set display_name = 'replay-only edit'`);
  const capsule = join(dir, 'acme-ada.json');
  await exportCapsule({
    manifest,
    subject: { tenant_id: 'acme', user_id: 'ada' },
    databaseUrl: db.url,
    out: capsule,
    sinceDays: 180,
    redaction: 'safe',
  });
  const sessions = join(dir, 'sessions');
  await mkdir(sessions);
  const proxy = await startRecordingProxy({
    listen: '127.0.0.1:0',
    target: db.url,
    pseudoUsers: [{ name: 'pseudo', password: 'pseudo-pw' }],
    sessionsDir: sessions,
  });
  const client = await proxyClient(proxy.address.port, 'pseudo', 'pseudo-pw');
  await client.query('select count(*) from users');
  await client.end();
  await proxy.close();
  return { source: db, replay, dir, capsule, session: proxy.sessionFiles()[0]! };
}

type Fault = 'connection refused' | 'DNS failure' | 'wrong password' | 'statement timeout';

/** The URL of `db` broken by `fault`; its password is the test role's (or contains it). */
function brokenUrl(fault: Fault, db: TestDatabase): string {
  const url = new URL(db.url.connectionString());
  if (fault === 'connection refused') url.port = '1';
  if (fault === 'DNS failure') url.hostname = 'nonexistent.invalid';
  if (fault === 'wrong password') url.password = `${testerPassword()}-wrong`;
  // A statement timeout with a lock held on users by another session (see below): the first statement
  // touching users waits, and is cancelled after 300 ms. Deterministic, unlike a tiny timeout alone.
  if (fault === 'statement timeout') url.search = '?options=-c%20statement_timeout%3D300';
  return url.toString();
}

const reasons: Record<Fault, RegExp> = {
  'connection refused': /cannot connect \(127\.0\.0\.1:1\/t_\w+\): connection refused/,
  'DNS failure': /cannot connect \(nonexistent\.invalid:\d+\/t_\w+\): host not found \(DNS lookup failed\)/,
  'wrong password': /\(127\.0\.0\.1:\d+\/t_\w+\): password authentication failed for user "replay_tester"/,
  'statement timeout': /canceling statement due to statement timeout/,
};

type Command = 'export-postgres' | 'materialize-postgres' | 'doctor' | 'run' | 'replay';

/** The command line for `command` against the broken URL (the source for export, else the replay DB). */
function commandLine(command: Command, s: Setup, url: string): string[] {
  switch (command) {
    case 'export-postgres':
      return [
        'export-postgres',
        '--app',
        app,
        ...subject,
        '--db-url',
        url,
        '--out',
        join(s.dir, 'out', 'c.json'),
      ];
    case 'materialize-postgres':
      return ['materialize-postgres', '--app', app, '--capsule', s.capsule, '--db-url', url];
    case 'doctor':
      return ['doctor', '--app', app, '--db-url', url];
    case 'run':
      return [
        'run',
        '--app',
        app,
        '--capsule',
        s.capsule,
        '--db-url',
        url,
        '--trace-out',
        join(s.dir, 'trace.json'),
      ];
    case 'replay':
      return ['replay', s.session, '--db-url', url, '--rollback'];
  }
}

const faults: Fault[] = ['connection refused', 'DNS failure', 'wrong password', 'statement timeout'];
const commands: Command[] = ['export-postgres', 'materialize-postgres', 'doctor', 'run', 'replay'];
const matrix = faults.flatMap((fault) => commands.map((command) => ({ fault, command })));

describe('database faults: one clear line, the right exit code, nothing written, nothing changed', () => {
  dbTest.for(matrix)('$fault → $command', async ({ fault, command }, { db }) => {
    const s = await setup(db);
    const target = command === 'export-postgres' ? s.source : s.replay;
    const before = await dumpTables(target, teamdeskTables);
    // For the statement timeout: another session holds a lock every command needs (users is read by the
    // graph query, deleted from by materialize, planned by doctor, queried by the recorded session).
    const locker = new pg.Client({ connectionString: target.url.connectionString() });
    await locker.connect();
    let result: CliResult;
    try {
      if (fault === 'statement timeout')
        await locker.query('begin; lock table users in access exclusive mode');
      const started = performance.now();
      result = await runCli(commandLine(command, s, brokenUrl(fault, target)), { env: { NO_COLOR: '1' } });
      // doctor caps its EXPLAINs at 30 s but must keep the user's stricter 300 ms: raising it made each
      // statement on the locked table wait the full 30 s (62 s in all), not 0.3 s.
      if (fault === 'statement timeout' && command === 'doctor')
        expect(performance.now() - started).toBeLessThan(30_000);
    } finally {
      await locker.query('rollback').catch(() => {});
      await locker.end();
    }
    const output = result.stdout + result.stderr;
    expect(output).not.toContain(testerPassword());
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(await dumpTables(target, teamdeskTables)).toEqual(before);
    if (command === 'doctor') {
      // doctor reports instead of failing: a [fail] line with the reason, exit 7.
      expect(result.exitCode).toBe(7);
      expect(result.stdout.split('\n').find((line) => line.startsWith('[fail]'))).toMatch(reasons[fault]);
    } else if (command === 'run') {
      // run always judges and writes its trace: the failed materialization blocks (exit 11).
      expect(result.exitCode).toBe(11);
      expect(result.stdout).toMatch(new RegExp(`^materialize: .*${reasons[fault].source}`, 'm'));
      const trace = JSON.parse(await readFile(join(s.dir, 'trace.json'), 'utf8'));
      expect(trace.events[0]).toMatchObject({ kind: 'materialize', success: false });
      expect(JSON.stringify(trace)).not.toContain(testerPassword());
    } else if (command === 'replay' && fault === 'statement timeout') {
      // Connected fine; the recorded query now fails: replay reports that as a new error (exit 12).
      expect(result.exitCode).toBe(12);
      expect(result.stdout).toContain(
        '✗ New error:\n  error: expected success, got 57014 (canceling statement due to statement timeout)',
      );
    } else {
      expect(result.exitCode).toBe(3);
      const lines = result.stderr.trim().split('\n');
      expect(lines[0]).toMatch(/^error: /);
      expect(lines[0]).toMatch(reasons[fault]);
      // At most the error line and one hint line.
      expect(lines.length).toBeLessThanOrEqual(2);
      if (lines[1]) expect(lines[1]).toMatch(/^hint: /);
    }
    if (command === 'export-postgres')
      expect(await filesBesidesAudit(join(s.dir, 'out')).catch(() => [])).toEqual([]);
  });
});

/** Runs the built CLI with RLIMIT_FSIZE = `kib` KiB: writes past it fail with EFBIG, like a full disk. */
function runWithFileSizeLimit(kib: number, args: string[]): Promise<CliResult> {
  return execa('bash', ['-c', `ulimit -f ${kib}; exec node "$@"`, 'bash', runJs, ...args], {
    reject: false,
    cwd: repoRoot,
    env: { NO_COLOR: '1' },
  }).then((result) => ({
    exitCode: result.exitCode ?? -1,
    stdout: String(result.stdout),
    stderr: String(result.stderr),
  }));
}

describe('a full disk (writes fail with EFBIG): one line, nothing under the target name', () => {
  dbTest.for(['c.json', 'c.json.gz'])('export-postgres --out %s', async (name, { db }) => {
    const s = await setup(db);
    const out = join(s.dir, 'full', name);
    // The teamdesk capsule is ~6 KiB (~2 KiB gzipped): 1 KiB is not enough for either.
    const result = await runWithFileSizeLimit(1, [
      'export-postgres',
      '--app',
      app,
      ...subject,
      '--db-url',
      db.url.connectionString(),
      '--out',
      out,
    ]);
    expect(result.exitCode, result.stderr).toBe(2);
    expect(result.stderr.trim()).toBe(`error: cannot write ${out}: EFBIG: file too large, write`);
    expect(await filesBesidesAudit(join(s.dir, 'full'))).toEqual([]);
    expect(result.stdout + result.stderr).not.toContain(testerPassword());
  });

  dbTest('run --trace-out: the run still judges; the trace is not half-written', async ({ db }) => {
    const s = await setup(db);
    const trace = join(s.dir, 'reports', 'trace.json');
    const result = await runWithFileSizeLimit(2, [
      'run',
      '--app',
      app,
      '--capsule',
      s.capsule,
      '--db-url',
      s.replay.url.connectionString(),
      '--trace-out',
      trace,
      '--json',
    ]);
    expect(result.exitCode).toBe(2);
    expect(JSON.parse(result.stdout)).toEqual({
      error: { code: 'file_error', message: `cannot write ${trace}: EFBIG: file too large, write` },
    });
    expect(await filesBesidesAudit(join(s.dir, 'reports'))).toEqual([]);
  });

  dbTest(
    'record: the proxy keeps serving, says the session file failed, and does not crash',
    async ({ db }) => {
      const s = await setup(db);
      const sessions = join(s.dir, 'full-sessions');
      await mkdir(sessions);
      const child = execa(
        'bash',
        [
          '-c',
          'ulimit -f 1; exec node "$@"',
          'bash',
          runJs,
          'record',
          '--listen',
          '127.0.0.1:0',
          '--target-url',
          db.url.connectionString(),
          '--pseudo-user',
          'pseudo:pseudo-pw',
          '--sessions-dir',
          sessions,
        ],
        { reject: false, all: true, env: { NO_COLOR: '1' } },
      );
      let output = '';
      child.all!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      for (let i = 0; i < 400 && !/Listening on 127\.0\.0\.1:\d+/.test(output); i++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      const port = Number(/Listening on 127\.0\.0\.1:(\d+)/.exec(output)![1]);
      // Each answer is journalled (~1.5 KiB of users rows): the second query already overflows 1 KiB.
      for (let round = 0; round < 2; round++) {
        const client = await proxyClient(port, 'pseudo', 'pseudo-pw');
        for (let i = 0; i < 3; i++) expect((await client.query('select * from users')).rowCount).toBe(7);
        await client.end();
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      child.kill('SIGINT');
      const result = await child;
      expect(output).toMatch(/⚠️ {2}session file: EFBIG: file too large, write/);
      expect(output).not.toMatch(/\n\s+at /);
      // Ctrl-C is record's normal stop (docs/sessions.md): exit 0, not a crash.
      expect(result.exitCode).toBe(0);
      expect(output).not.toContain(testerPassword());
    },
  );
});

describe('kill -9 during export', () => {
  dbTest(
    'nothing under the target name; the next export to it removes the dead temp file',
    async ({ db }) => {
      await db.query(`create table slow (id int primary key, account_id text not null)`);
      await db.query(`insert into slow select i, 'a1' from generate_series(1, 400) i`);
      const dir = await mkdtemp(join(tmpdir(), 'reliability-kill-'));
      const manifestFor = async (where: string) => {
        const path = join(dir, `slow-${where.length}.json`);
        await import('node:fs/promises').then(({ writeFile }) =>
          writeFile(
            path,
            JSON.stringify({
              appId: 'slow',
              adapter: 'postgres-subject-graph.v1',
              subjectKeys: ['account_id'],
              postgres: { tables: [{ name: 'slow', alias: 's', where, orderBy: 's.id' }] },
            }),
          ),
        );
        return path;
      };
      const outDir = join(dir, 'out');
      const out = join(outDir, 'slow.json');
      const args = (manifestPath: string) => [
        runJs,
        ...exportArgs(manifestPath, { account_id: 'a1' }, db.url.connectionString(), out),
      ];
      const child = execa('node', args(await manifestFor('pg_sleep(0.05) is not null')), { reject: false });
      let names: string[] = [];
      for (let i = 0; i < 400 && !names.some((name) => name.endsWith('.tmp')); i++) {
        names = await readdir(outDir).catch(() => []);
        if (!names.some((name) => name.endsWith('.tmp')))
          await new Promise((resolve) => setTimeout(resolve, 50));
      }
      child.kill('SIGKILL');
      const killed = await child;
      expect(killed.signal).toBe('SIGKILL');
      // SIGKILL cannot be caught: the temporary file stays, hidden and named after target and pid.
      const left = await readdir(outDir);
      expect(left).toEqual([
        expect.stringMatching(new RegExp(`^\\.slow\\.json\\.${child.pid}\\.[0-9a-f]{8}\\.tmp$`)),
      ]);
      expect((await stat(join(outDir, left[0]!))).mode & 0o777).toBe(0o600);
      // The next export to the same target succeeds and removes the dead process's temp file.
      const next = await execa('node', args(await manifestFor('true')), { reject: false });
      expect(next.exitCode).toBe(0);
      expect(await filesBesidesAudit(outDir)).toEqual(['slow.json']);
    },
  );
});
