import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect } from 'vitest';

import { stepEvents } from '../../../src/egress/event.js';
import type { RunTrace } from '../../../src/generated/trace.js';
import { freePort } from '../../../src/postgres/embedded.js';
import { processAlive } from '../../../src/run/process-group.js';
import { runReplay } from '../../../src/services/run.js';
import { validateAgainstSchema } from '../../../src/validation.js';
import { dbTest, type TestDatabase, testerPassword } from '../../setup/database.js';
import { appCapsule, type AppSetup, createSchema, portOpen, writeApp } from './helpers.js';

function expectValidTrace(trace: unknown): void {
  expect(validateAgainstSchema('trace', trace)).toEqual([]);
}

/** Backends of this test's database running (or left with) `select pg_sleep(60)`; `active`: running it. */
function sleepingBackends(db: TestDatabase, active = false): Promise<unknown[]> {
  return db.query(
    `select pid from pg_stat_activity where datname = current_database() and query = 'select pg_sleep(60)'${active ? ` and state = 'active'` : ''}`,
  );
}

/**
 * Runs `app` (no materialize), aborts it with SIGINT once a probe's `select pg_sleep(60)` runs on the
 * server, checks that the run stopped at once and left no such backend, and returns its valid trace.
 */
async function interruptWhileSleeping(app: AppSetup, db: TestDatabase): Promise<RunTrace> {
  const controller = new AbortController();
  const traceOut = join(app.dir, 'trace.json');
  const running = runReplay({
    manifest: app.manifest,
    skipMaterialize: true,
    dbUrl: db.url.connectionString(),
    traceOut,
    signal: controller.signal,
  });
  running.catch(() => {});
  for (let i = 0; i < 200 && (await sleepingBackends(db, true)).length === 0; i++)
    await new Promise((resolve) => setTimeout(resolve, 50));
  expect(await sleepingBackends(db, true)).toHaveLength(1);
  const aborted = performance.now();
  controller.abort('SIGINT');
  await expect(running).rejects.toThrow('interrupted by SIGINT');
  expect(performance.now() - aborted).toBeLessThan(20_000);
  expect(await sleepingBackends(db)).toEqual([]);
  const trace = JSON.parse(await readFile(traceOut, 'utf8'));
  expectValidTrace(trace);
  return trace;
}

describe('run', () => {
  dbTest('a clean run materializes, runs commands and probes, and continues (exit 0)', async ({ db }) => {
    await createSchema(db);
    const port = await freePort();
    const app = await writeApp({
      manifest: {
        commands: [
          { name: 'print-env', run: 'node print-env.js', timeoutSeconds: 30 },
          {
            name: 'web',
            run: 'node server.js',
            background: true,
            env: { PORT: String(port) },
            waitFor: { url: `http://127.0.0.1:${port}/health`, timeoutSeconds: 20 },
          },
        ],
        probes: [
          {
            name: 'health',
            kind: 'http',
            url: `http://127.0.0.1:${port}/health`,
            expectBodyContains: '"ok"',
            expectJson: { path: 'data.items.0.id', equals: 7 },
          },
          { name: 'users-loaded', kind: 'sql', sql: 'select count(*) from users', expectValue: 2 },
          {
            name: 'ada',
            kind: 'sql',
            sql: "select name from users where user_id = 'u1'",
            expectValue: 'Ada',
            expectRows: 1,
          },
          { name: 'cli-check', kind: 'command', command: 'node -e "process.exit(0)"' },
        ],
      },
    });
    const traceOut = join(app.dir, 'trace.json');
    const serverPids = join(app.dir, 'server-pids');
    app.manifest.commands[1]!.env = { PORT: String(port), PID_FILE: serverPids };
    const result = await runReplay({
      manifest: app.manifest,
      capsule: app.capsule,
      dbUrl: db.url.connectionString(),
      traceOut,
      junitOut: join(app.dir, 'junit.xml'),
      env: { ...process.env, APP_PROD_DATABASE_URL: 'postgres://real:secret@prod.example.com/app' },
    });
    expect(result.gateReasons).toEqual(['ship_to_staging: true']);
    expect(result.gate).toBe('continue');
    expect(result.exitCode).toBe(0);
    const trace = JSON.parse(await readFile(traceOut, 'utf8'));
    expectValidTrace(trace);
    expect(
      trace.events.map((event: { kind: string; name: string; success: boolean }) => [
        event.kind,
        event.name,
        event.success,
      ]),
    ).toEqual([
      ['materialize', 'materialize', true],
      ['command', 'print-env', true],
      ['background', 'web', true],
      ['probe', 'health', true],
      ['probe', 'users-loaded', true],
      ['probe', 'ada', true],
      ['probe', 'cli-check', true],
    ]);
    expect(trace.capsule.rowCounts).toEqual({ users: 2, notes: 1 });
    expect(trace.capsule.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(trace.facts).toMatchObject({
      graph_related_users: 1,
      probes_total: 4,
      'probe.health': 'pass',
      materialization_integrity: 'pass',
    });
    expect(trace.judges.map((judge: { verdict: string }) => judge.verdict)).toEqual([
      'pass',
      'pass',
      'pass',
      'pass',
    ]);
    // The child saw the blocked production URL and the replay URL; the trace hides the replay password.
    const printEnv = trace.events[1].stdout as string;
    expect(printEnv).toContain('prod=postgres://replay-env-blocked@127.0.0.1:1/blocked-by-replay-env');
    expect(printEnv).toContain(`replay=postgres://replay_tester:***@`);
    const files =
      (await readFile(traceOut, 'utf8')) +
      (await readFile(join(app.dir, 'junit.xml'), 'utf8')) +
      JSON.stringify(result);
    expect(files).not.toContain(testerPassword());
    expect(files).not.toContain('secret@prod');
    expect(await readFile(join(app.dir, 'junit.xml'), 'utf8')).toContain(
      '<testcase classname="probes" name="health"',
    );
    // The background server and its worker are gone.
    expect(await portOpen(port)).toBe(false);
    expect(trace.events[2].pid).toBeGreaterThan(0);
    expect(processAlive(trace.events[2].pid)).toBe(false);
    const [server, worker] = (await readFile(serverPids, 'utf8')).split(' ').map(Number);
    expect(processAlive(server!)).toBe(false);
    expect(processAlive(worker!)).toBe(false);
  });

  dbTest('a failing probe blocks, and the trace names it', async ({ db }) => {
    await createSchema(db);
    const app = await writeApp({
      manifest: {
        probes: [
          { name: 'count-users', kind: 'sql', sql: 'select count(*) from users', expectRows: 1 },
          { name: 'wrong-count', kind: 'sql', sql: 'select count(*) from users', expectValue: 5 },
        ],
      },
    });
    const result = await runReplay({
      manifest: app.manifest,
      capsule: app.capsule,
      dbUrl: db.url.connectionString(),
    });
    expect(result.gate).toBe('block');
    expect(result.exitCode).toBe(11);
    expect(result.gateReasons).toContain('block: required_probes_failed > 0 (required_probes_failed = 1)');
    expect(result.trace.facts['probe.wrong-count']).toBe('fail');
    const failed = stepEvents(result.trace.events).find((event) => event.name === 'wrong-count')!;
    expect(failed.message).toBe('value is "2", expected 5');
    expect(result.trace.judges.find((judge) => judge.id === 'probe_outcomes')!.reasons).toEqual([
      'probe wrong-count failed: value is "2", expected 5',
    ]);
    expectValidTrace(result.trace);
  });

  dbTest('an abort cancels a running sql probe at once, not at its timeout', async ({ db }) => {
    const app = await writeApp({
      manifest: {
        probes: [
          { name: 'slow', kind: 'sql', sql: 'select pg_sleep(60)', timeoutSeconds: 90 },
          { name: 'after', kind: 'sql', sql: 'select 1' },
        ],
      },
    });
    const trace = await interruptWhileSleeping(app, db);
    expect(stepEvents(trace.events).map((event) => [event.name, event.success, event.message])).toEqual([
      ['slow', false, 'interrupted'],
      ['after', false, 'not run: interrupted by SIGINT'],
    ]);
  });

  dbTest('allowFailure steps do not block (warn)', async ({ db }) => {
    await createSchema(db);
    const app = await writeApp({
      manifest: {
        commands: [{ name: 'flaky', run: 'echo broken >&2; exit 3', allowFailure: true }],
        probes: [
          { name: 'nope', kind: 'http', url: 'http://127.0.0.1:1/', allowFailure: true, timeoutSeconds: 2 },
        ],
      },
    });
    const result = await runReplay({
      manifest: app.manifest,
      capsule: app.capsule,
      dbUrl: db.url.connectionString(),
    });
    expect(result.gate).toBe('warn');
    expect(result.exitCode).toBe(0);
    expect(result.trace.facts).toMatchObject({
      allowed_failures: 2,
      required_commands_failed: 0,
      required_probes_failed: 0,
    });
    const flaky = result.trace.events.find((event) => event.name === 'flaky')!;
    expect(flaky).toMatchObject({
      success: false,
      exitCode: 3,
      stderr: 'broken\n',
      message: 'exit status 3',
    });
    expectValidTrace(result.trace);
  });

  dbTest('a command over its timeout is killed with its grandchild, within seconds', async ({ db }) => {
    const app = await writeApp({
      manifest: {
        commands: [
          // 3 s, not 1: on a loaded machine node started and wrote the pids after 1 s (fresh-clone run,
          // session 19: ENOENT on the pids file), so the test failed without testing the kill.
          { name: 'hangs', run: 'node tree.js "$PIDS"', timeoutSeconds: 3, env: { PIDS: '' } },
          { name: 'after', run: 'echo never' },
        ],
      },
    });
    const pids = join(app.dir, 'pids');
    app.manifest.commands[0]!.env = { PIDS: pids };
    const result = await runReplay({
      manifest: app.manifest,
      skipMaterialize: true,
      capsule: app.capsule,
      dbUrl: db.url.connectionString(),
      killGraceMs: 1000,
    });
    const [child, grandchild] = (await readFile(pids, 'utf8')).split(' ').map(Number);
    expect(processAlive(child!)).toBe(false);
    expect(processAlive(grandchild!)).toBe(false);
    const hangs = result.trace.events[0]!;
    expect(hangs).toMatchObject({
      name: 'hangs',
      success: false,
      timedOut: true,
      message: 'timed out after 3s; process tree killed',
    });
    expect(result.trace.events[1]).toMatchObject({
      name: 'after',
      skipped: true,
      message: 'not run: command hangs failed',
    });
    expect(result.gate).toBe('block');
    expectValidTrace(result.trace);
  });

  dbTest('a background command that exits early or never gets ready is a failed event', async ({ db }) => {
    const port = await freePort();
    const app = await writeApp({
      manifest: {
        commands: [
          { name: 'dies', run: 'exit 4', background: true, waitFor: { port, timeoutSeconds: 5 } },
          { name: 'next', run: 'echo next' },
        ],
        probes: [{ name: 'p', kind: 'command', command: 'true' }],
      },
    });
    const result = await runReplay({
      manifest: app.manifest,
      skipMaterialize: true,
      dbUrl: db.url.connectionString(),
    });
    expect(result.trace.events[0]).toMatchObject({
      kind: 'background',
      success: false,
      exitedEarly: true,
      exitCode: 4,
      ready: false,
    });
    expect(result.trace.facts).toMatchObject({
      required_commands_failed: 1,
      'command.next': 'skipped',
      'probe.p': 'skipped',
    });
    expect(result.gate).toBe('block');
    expectValidTrace(result.trace);

    const slow = await writeApp({
      manifest: {
        commands: [
          { name: 'never-ready', run: 'sleep 30', background: true, waitFor: { port, timeoutSeconds: 0.5 } },
        ],
      },
    });
    const second = await runReplay({
      manifest: slow.manifest,
      skipMaterialize: true,
      dbUrl: db.url.connectionString(),
      killGraceMs: 500,
    });
    expect(second.trace.events[0]).toMatchObject({
      success: false,
      ready: false,
      message: `not ready within 0.5s (waiting for 127.0.0.1:${port})`,
    });
    expect(second.gate).toBe('block');
    expectValidTrace(second.trace);
  });

  dbTest('a safe capsule holding an API token is blocked by the credentials judge', async ({ db }) => {
    await createSchema(db);
    const token = ['xoxb', '2222222222', 'abcdefghijKLMNOP'].join('-');
    const capsule = appCapsule();
    capsule.tables.notes = [{ id: 1, tenant_id: 't1', user_id: 'u1', body: `use ${token} for the bot` }];
    const app = await writeApp({ capsule });
    const result = await runReplay({
      manifest: app.manifest,
      capsule: app.capsule,
      dbUrl: db.url.connectionString(),
    });
    expect(result.gate).toBe('block');
    const judge = result.trace.judges.find((entry) => entry.id === 'credentials_in_safe_export')!;
    expect(judge).toMatchObject({
      verdict: 'fail',
      findings: [{ table: 'notes', row: 0, path: 'body', kind: 'slack token' }],
    });
    expect(result.gateReasons).toContain('block: credentials_in_safe_export = fail');
    expect(JSON.stringify(result)).not.toContain(token);
    expectValidTrace(result.trace);
  });

  dbTest('a failed materialization still writes a trace, and blocks', async ({ db }) => {
    // No schema in the replay database: loading fails, the run stops before commands.
    const app = await writeApp({ manifest: { commands: [{ name: 'c', run: 'echo hi' }] } });
    const traceOut = join(app.dir, 'trace.json');
    const result = await runReplay({
      manifest: app.manifest,
      capsule: app.capsule,
      dbUrl: db.url.connectionString(),
      traceOut,
    });
    expect(result.gate).toBe('block');
    const trace = JSON.parse(await readFile(traceOut, 'utf8'));
    expectValidTrace(trace);
    expect(trace.events[0]).toMatchObject({
      kind: 'materialize',
      success: false,
      rowCounts: { users: 2, notes: 1 },
    });
    expect(trace.events[1]).toMatchObject({ name: 'c', skipped: true });
    expect(trace.gateReasons[0]).toBe('block: materialization failed');
    expect(trace.facts.materialization_failed).toBe(true);
  });

  dbTest('--skip-materialize warns "not materialized in this run"', async ({ db }) => {
    const app = await writeApp({ manifest: { probes: [{ name: 'ok', kind: 'command', command: 'true' }] } });
    const result = await runReplay({
      manifest: app.manifest,
      capsule: app.capsule,
      skipMaterialize: true,
      dbUrl: db.url.connectionString(),
    });
    expect(result.gate).toBe('warn');
    expect(result.trace.judges.find((judge) => judge.id === 'materialization_integrity')).toMatchObject({
      verdict: 'warn',
      reasons: ['not materialized in this run (--skip-materialize)'],
    });
    expectValidTrace(result.trace);
  });

  dbTest('an unknown fact in gate.yaml is a clear error before anything runs', async ({ db }) => {
    const { mkdir, writeFile } = await import('node:fs/promises');
    const app = await writeApp({ manifest: { commands: [{ name: 'marker', run: 'touch ran' }] } });
    const loop = join(app.dir, 'loop');
    await mkdir(loop);
    await writeFile(join(loop, 'gate.yaml'), 'block_if:\n  - probes_faild > 0\n');
    await expect(
      runReplay({
        manifest: app.manifest,
        skipMaterialize: true,
        dbUrl: db.url.connectionString(),
        loop,
        cwd: app.dir,
      }),
    ).rejects.toThrow(/^loop\/gate\.yaml: block_if\[0\] "probes_faild > 0": unknown fact "probes_faild"/);
    const { existsSync } = await import('node:fs');
    expect(existsSync(join(app.dir, 'ran'))).toBe(false);
  });
});

const recordedAt = '2025-10-07T21:30:15Z';
const recordedQuery = (n: number, sql: string) => ({
  type: 'query',
  timestamp: recordedAt,
  data: { query_number: n, sql },
});
const recordedResult = (n: number, columns: string[], rows: string[][], tag: string) => ({
  type: 'query_result',
  timestamp: recordedAt,
  data: { query_number: n, columns, rows, row_count: rows.length, command_tag: tag, error: null },
});

/** A recorded session that writes a note, then sleeps a minute on the server. */
const sleepingSession = [
  recordedQuery(1, "insert into notes values (9, 't1', 'u1', 'from the session')"),
  recordedResult(1, [], [], 'INSERT 0 1'),
  recordedQuery(2, 'select pg_sleep(60)'),
  recordedResult(2, ['pg_sleep'], [['']], 'SELECT 1'),
  recordedQuery(3, 'select 1'),
  recordedResult(3, ['?column?'], [['1']], 'SELECT 1'),
];

describe('run: session probes', () => {
  dbTest('replays a recorded session, rolled back; mismatches block', async ({ db }) => {
    const { writeFile } = await import('node:fs/promises');
    await createSchema(db);
    const app = await writeApp({
      manifest: { probes: [{ name: 'recorded', kind: 'session', session: 'SESSION' }] },
    });
    const session = join(app.dir, 'session.json');
    await writeFile(
      session,
      JSON.stringify([
        recordedQuery(1, 'select count(*) from users'),
        recordedResult(1, ['count'], [['2']], 'SELECT 1'),
        recordedQuery(2, "insert into notes values (9, 't1', 'u1', 'from the session')"),
        recordedResult(2, [], [], 'INSERT 0 1'),
        recordedQuery(3, "select name from users where user_id = 'u2'"),
        recordedResult(3, ['name'], [['Robert']], 'SELECT 1'),
      ]),
    );
    app.manifest.probes[0]!.session = session;
    const run = await runReplay({
      manifest: app.manifest,
      capsule: app.capsule,
      dbUrl: db.url.connectionString(),
    });
    const event = run.trace.events.find((entry) => entry.name === 'recorded')!;
    expect(event).toMatchObject({ success: false, queriesExecuted: 3, matched: 2, mismatched: 1, session });
    expect(run.trace.facts.session_mismatches).toBe(1);
    expect(run.gate).toBe('block');
    expect(run.gateReasons).toContain('block: session_mismatches > 0 (session_mismatches = 1)');
    // Rolled back: the session's insert is not in the replay database.
    expect(await db.query('select count(*)::int as n from notes')).toEqual([{ n: 1 }]);
    expectValidTrace(run.trace);
  });

  dbTest('an abort stops a running session probe at once and rolls its writes back', async ({ db }) => {
    const { writeFile } = await import('node:fs/promises');
    await createSchema(db);
    const app = await writeApp({
      manifest: {
        probes: [
          { name: 'recorded', kind: 'session', session: 'SESSION', timeoutSeconds: 90 },
          { name: 'after', kind: 'sql', sql: 'select 1' },
        ],
      },
    });
    const session = join(app.dir, 'session.json');
    await writeFile(session, JSON.stringify(sleepingSession));
    app.manifest.probes[0]!.session = session;
    const trace = await interruptWhileSleeping(app, db);
    // Rolled back: the session's insert is not in the replay database.
    expect(await db.query('select count(*)::int as n from notes')).toEqual([{ n: 0 }]);
    expect(stepEvents(trace.events).map((event) => [event.name, event.success, event.message])).toEqual([
      ['recorded', false, 'interrupted'],
      ['after', false, 'not run: interrupted by SIGINT'],
    ]);
  });

  dbTest('a session probe past its timeout fails and leaves no statement running', async ({ db }) => {
    const { writeFile } = await import('node:fs/promises');
    await createSchema(db);
    const app = await writeApp({
      manifest: { probes: [{ name: 'recorded', kind: 'session', session: 'SESSION', timeoutSeconds: 2 }] },
    });
    const session = join(app.dir, 'session.json');
    await writeFile(session, JSON.stringify(sleepingSession));
    app.manifest.probes[0]!.session = session;
    const started = performance.now();
    const run = await runReplay({
      manifest: app.manifest,
      skipMaterialize: true,
      dbUrl: db.url.connectionString(),
    });
    expect(performance.now() - started).toBeLessThan(20_000);
    const event = run.trace.events.find((entry) => entry.name === 'recorded')!;
    expect(event).toMatchObject({ success: false, message: 'no result within 2s' });
    expect(run.gate).toBe('block');
    // Before the replay itself was stopped, its pg_sleep(60) ran on after the probe had failed.
    expect(await sleepingBackends(db)).toEqual([]);
    expect(await db.query('select count(*)::int as n from notes')).toEqual([{ n: 0 }]);
  });
});
