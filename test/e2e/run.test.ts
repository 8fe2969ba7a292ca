import { execFileSync } from 'node:child_process';
import { constants, existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { execa } from 'execa';
import { describe, expect, test } from 'vitest';

import { freePort } from '../../src/postgres/embedded.js';
import { processAlive } from '../../src/run/process-group.js';
import { validateAgainstSchema } from '../../src/validation.js';
import { appCapsule, createSchema, portOpen, writeApp } from '../integration/run/helpers.js';
import { parseJsonOutput, repoRoot, runCli } from '../setup/cli.js';
import { dbTest, testerPassword } from '../setup/database.js';

const runJs = fileURLToPath(new URL('../../bin/run.js', import.meta.url));

/**
 * Whether a thread of process `pid` comes to be blocked opening a FIFO (kernel wait channel
 * wait_for_partner) within 20 s: a command held in its start-up by a manifest or gate file that is one.
 */
async function openingFifo(pid: number): Promise<boolean> {
  for (let i = 0; i < 400; i++) {
    const tasks = await readdir(`/proc/${pid}/task`).catch(() => []);
    for (const task of tasks) {
      const wchan = await readFile(`/proc/${pid}/task/${task}/wchan`, 'utf8').catch(() => '');
      if (wchan === 'wait_for_partner') return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

/** Writes `text` into the FIFO at `path` if a reader has it open (ENXIO, not a hang, if none). */
async function feedFifo(path: string, text: string): Promise<void> {
  const writer = await open(path, constants.O_WRONLY | constants.O_NONBLOCK);
  await writer.write(text);
  await writer.close();
}

describe('replay-env run (built CLI)', () => {
  dbTest('--json prints one document with the trace; exit 0 on continue; junit written', async ({ db }) => {
    await createSchema(db);
    const app = await writeApp({
      manifest: {
        probes: [{ name: 'users', kind: 'sql', sql: 'select count(*) from users', expectValue: 2 }],
      },
    });
    const junit = join(app.dir, 'report.xml');
    const result = await runCli(
      ['run', '--app', join(app.dir, 'app.json'), '--capsule', app.capsule, '--junit', junit, '--json'],
      { env: { APP_REPLAY_DATABASE_URL: db.url.connectionString() } },
    );
    expect(result.exitCode).toBe(0);
    const output = parseJsonOutput<{ gate: string; exitCode: number; trace: unknown; tracePath: null }>(
      result.stdout,
    );
    expect(output).toMatchObject({ gate: 'continue', exitCode: 0, tracePath: null });
    expect(validateAgainstSchema('trace', output.trace)).toEqual([]);
    const xml = await readFile(junit, 'utf8');
    expect(xml).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="replay-env run" tests="7" failures="0"/,
    );
    expect(result.stdout + result.stderr + xml).not.toContain(testerPassword());
  });

  dbTest('a failing probe exits 11 with a readable summary naming it', async ({ db }) => {
    await createSchema(db);
    const app = await writeApp({
      manifest: {
        probes: [{ name: 'needs-three', kind: 'sql', sql: 'select count(*) from users', expectValue: 3 }],
      },
    });
    const trace = join(app.dir, 'out', 'trace.json');
    const result = await runCli([
      'run',
      '--app',
      join(app.dir, 'app.json'),
      '--capsule',
      app.capsule,
      '--db-url',
      db.url.connectionString(),
      '--trace-out',
      trace,
    ]);
    expect(result.exitCode).toBe(11);
    expect(result.stdout).toContain('gate: BLOCK');
    expect(result.stdout).toContain('needs-three: value is "2", expected 3');
    expect(result.stdout).toContain(`trace: ${trace}`);
    expect(result.stdout + result.stderr).not.toContain(testerPassword());
    const written = JSON.parse(await readFile(trace, 'utf8'));
    expect(validateAgainstSchema('trace', written)).toEqual([]);
    expect(written.facts['probe.needs-three']).toBe('fail');
  });

  dbTest('a raw capsule needs human review: exit 10', async ({ db }) => {
    await createSchema(db);
    const app = await writeApp({
      capsule: appCapsule({ extra: { redaction: 'raw' } }),
      manifest: { probes: [{ name: 'p', kind: 'command', command: 'true' }] },
    });
    const result = await runCli([
      'run',
      '--app',
      join(app.dir, 'app.json'),
      '--capsule',
      app.capsule,
      '--db-url',
      db.url.connectionString(),
      '--json',
    ]);
    expect(result.exitCode).toBe(10);
    expect(parseJsonOutput<{ gate: string }>(result.stdout).gate).toBe('human_review');
  });

  dbTest.for([
    ['no capsule', [], /error: --capsule is required\nhint: /, 2],
    [
      'unknown fact',
      ['--skip-materialize', '--loop', 'LOOP'],
      /error: .*gate\.yaml: warn_if\[0\] "grph_size > 1": unknown fact "grph_size"/,
      2,
    ],
  ] as const)('%s is a clear error', async ([, args, message, code], { db }) => {
    const app = await writeApp({});
    const loop = join(app.dir, 'loop');
    await mkdir(loop);
    await writeFile(join(loop, 'gate.yaml'), 'warn_if:\n  - grph_size > 1\n');
    const result = await runCli([
      'run',
      '--app',
      join(app.dir, 'app.json'),
      '--db-url',
      db.url.connectionString(),
      ...args.map((arg) => (arg === 'LOOP' ? loop : arg)),
    ]);
    expect(result.exitCode).toBe(code);
    expect(result.stderr).toMatch(message);
  });

  dbTest('SIGINT stops the background tree, writes the trace and exits 130', async ({ db }) => {
    const port = await freePort();
    const app = await writeApp({
      manifest: {
        commands: [
          {
            name: 'web',
            run: 'node server.js',
            background: true,
            env: { PORT: String(port) },
            waitFor: { port },
          },
          { name: 'long', run: 'sleep 60' },
        ],
      },
    });
    const pids = join(app.dir, 'pids');
    const trace = join(app.dir, 'trace.json');
    const manifestPath = join(app.dir, 'app.json');
    const raw = JSON.parse(await readFile(manifestPath, 'utf8'));
    raw.commands[0].env.PID_FILE = pids;
    await writeFile(manifestPath, JSON.stringify(raw));
    const child = execa(
      'node',
      [
        runJs,
        'run',
        '--app',
        manifestPath,
        '--skip-materialize',
        '--db-url',
        db.url.connectionString(),
        '--trace-out',
        trace,
      ],
      {
        cwd: repoRoot,
        reject: false,
        env: { NO_COLOR: '1' },
      },
    );
    for (let i = 0; i < 200 && !existsSync(pids); i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    await new Promise((resolve) => setTimeout(resolve, 300));
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(String(result.stderr)).toContain('error: interrupted by SIGINT');
    expect(String(result.stderr)).toMatch(/^ {2}long: interrupted \(/m);
    const [server, worker] = (await readFile(pids, 'utf8')).split(' ').map(Number);
    expect(processAlive(server!)).toBe(false);
    expect(processAlive(worker!)).toBe(false);
    expect(await portOpen(port)).toBe(false);
    const written = JSON.parse(await readFile(trace, 'utf8'));
    expect(validateAgainstSchema('trace', written)).toEqual([]);
    expect(written).toMatchObject({ interrupted: 'SIGINT', gate: 'block' });
    expect(written.gateReasons[0]).toBe('block: interrupted by SIGINT');
  });

  test('a second SIGINT while the run stops its commands ends it at once, with one line', async () => {
    const app = await writeApp({});
    const manifestPath = join(app.dir, 'app.json');
    const pidFile = join(app.dir, 'stubborn.pid');
    const raw = JSON.parse(await readFile(manifestPath, 'utf8'));
    // Ignores SIGTERM: the run's stop waits its 5 s grace before SIGKILL, the window for a second signal.
    raw.commands = [{ name: 'stubborn', run: `trap '' TERM; echo $$ > ${pidFile}; sleep 60 & wait` }];
    await writeFile(manifestPath, JSON.stringify(raw));
    const trace = join(app.dir, 'trace.json');
    const child = execa(
      'node',
      [runJs, 'run', '--app', manifestPath, '--skip-materialize', '--trace-out', trace],
      { cwd: repoRoot, reject: false, env: { NO_COLOR: '1' } },
    );
    for (let i = 0; i < 300 && !existsSync(pidFile); i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const shell = Number((await readFile(pidFile, 'utf8')).trim());
    child.kill('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const second = performance.now();
    child.kill('SIGINT');
    const result = await child;
    expect(performance.now() - second).toBeLessThan(3000);
    expect(result.exitCode).toBe(130);
    const errors = String(result.stderr)
      .split('\n')
      .filter((line) => line.startsWith('error:'));
    expect(errors).toEqual([
      'error: stopped at once by a second SIGINT: process trees killed, no trace or report written (an open transaction is rolled back by the server as the connection drops)',
    ]);
    expect(existsSync(trace)).toBe(false);
    expect(processAlive(shell)).toBe(false);
  });

  /**
   * A run held in its start-up: its gate.yaml is a FIFO, so it waits reading it (past bin/run.js's first
   * line, before its own handler exists) until the test writes it. Its one command would leave `marker`.
   */
  async function runHeldInStartUp() {
    const app = await writeApp({});
    const marker = join(app.dir, 'ran');
    const manifestPath = join(app.dir, 'app.json');
    const raw = JSON.parse(await readFile(manifestPath, 'utf8'));
    raw.commands = [{ name: 'marker', run: `touch ${marker}` }];
    await writeFile(manifestPath, JSON.stringify(raw));
    const loop = join(app.dir, 'loop');
    await mkdir(loop);
    const gate = join(loop, 'gate.yaml');
    execFileSync('mkfifo', [gate]);
    const trace = join(app.dir, 'trace.json');
    const child = execa(
      'node',
      [runJs, 'run', '--app', manifestPath, '--loop', loop, '--skip-materialize', '--trace-out', trace],
      { cwd: repoRoot, reject: false, env: { NO_COLOR: '1' } },
    );
    expect(await openingFifo(child.pid!)).toBe(true);
    return { child, gate, trace, marker };
  }

  test('SIGINT during start-up (before the run has its handler) still stops it with a trace and 130', async () => {
    const { child, gate, trace, marker } = await runHeldInStartUp();
    child.kill('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Before early-signals.ts the run died of that signal here. Non-blocking: ENXIO (no reader left)
    // rather than a test that hangs.
    await feedFifo(gate, 'warn_if: []\n');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(String(result.stderr).trim()).toBe(
      'error: interrupted by SIGINT; background and running processes were stopped',
    );
    const written = JSON.parse(await readFile(trace, 'utf8'));
    expect(validateAgainstSchema('trace', written)).toEqual([]);
    expect(written).toMatchObject({ interrupted: 'SIGINT', gate: 'block' });
    expect(existsSync(marker)).toBe(false);
  });

  test('a second SIGINT during start-up exits at once with one line; nothing runs, no trace', async () => {
    const { child, trace, marker } = await runHeldInStartUp();
    child.kill('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 300));
    child.kill('SIGINT');
    // The gate file is never written: the run must end without it, not wait on it.
    const result = await child;
    // Death by the signal, which a shell reports as 130.
    expect(result.signal).toBe('SIGINT');
    expect(String(result.stderr).trim()).toBe(
      'error: stopped at once by a second SIGINT during start-up; the command had not begun',
    );
    expect(existsSync(trace)).toBe(false);
    expect(existsSync(marker)).toBe(false);
  });

  dbTest(
    'materialize-postgres: SIGINT while it reads its manifest stops it before the load',
    async ({ db }) => {
      await createSchema(db);
      const app = await writeApp({});
      // The manifest is a FIFO: the command waits in its start-up until the test writes it.
      const manifestFifo = join(app.dir, 'held.json');
      execFileSync('mkfifo', [manifestFifo]);
      const child = execa(
        'node',
        [
          runJs,
          'materialize-postgres',
          '--app',
          manifestFifo,
          '--capsule',
          app.capsule,
          '--db-url',
          db.url.connectionString(),
        ],
        { cwd: repoRoot, reject: false, env: { NO_COLOR: '1' } },
      );
      expect(await openingFifo(child.pid!)).toBe(true);
      child.kill('SIGINT');
      await new Promise((resolve) => setTimeout(resolve, 300));
      await feedFifo(manifestFifo, await readFile(join(app.dir, 'app.json'), 'utf8'));
      const result = await child;
      expect(result.exitCode).toBe(130);
      expect(String(result.stderr).trim()).toBe('error: interrupted; the load was rolled back');
      expect(await db.query('select count(*)::int as n from users')).toEqual([{ n: 0 }]);
    },
  );
});
