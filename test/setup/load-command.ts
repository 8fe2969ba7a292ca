import { execa } from 'execa';
import pg from 'pg';

import { type CliResult, repoRoot, runCli, runJs } from './cli.js';

/** What a loading command is pointed at: a manifest file, a capsule and a replay database URL. */
export interface LoadTarget {
  app: string;
  capsule: string;
  url: string;
}

/** The arguments of `materialize-postgres` or `run`: `--app`, `--capsule`, `--db-url`, then `extra`. */
export function loadArgs(
  command: 'materialize-postgres' | 'run',
  target: LoadTarget,
  extra: string[] = [],
): string[] {
  return [command, '--app', target.app, '--capsule', target.capsule, '--db-url', target.url, ...extra];
}

/** `materialize-postgres` or `run` through the built CLI: `--app`, `--capsule`, `--db-url`, then `extra`. */
export function runLoadCommand(
  command: 'materialize-postgres' | 'run',
  target: LoadTarget,
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<CliResult> {
  return runCli(loadArgs(command, target, extra), { env });
}

/** The arguments of `export-postgres` of `subject` (one `--subject key=value` each) from `url` into `out`. */
export function exportArgs(
  app: string,
  subject: Record<string, string>,
  url: string,
  out: string,
  extra: string[] = [],
): string[] {
  const subjectArgs = Object.entries(subject).flatMap(([key, value]) => ['--subject', `${key}=${value}`]);
  return ['export-postgres', '--app', app, ...subjectArgs, '--db-url', url, '--out', out, ...extra];
}

/**
 * Starts `materialize-postgres` of `target` through the built CLI, waits until its backend runs a
 * statement matching `running` (a LIKE pattern), sends the CLI `signal` (SIGKILL by default), and waits
 * until the server has ended the backend (and so rolled its transaction back). `seen` is false when the statement never
 * showed up (the CLI is killed anyway).
 */
export async function killLoadWhile(
  target: LoadTarget,
  running: string,
  signal: NodeJS.Signals = 'SIGKILL',
): Promise<{ seen: boolean; signal: string | undefined; exitCode: number | undefined; stderr: string }> {
  const child = execa('node', [runJs, ...loadArgs('materialize-postgres', target)], {
    reject: false,
    cwd: repoRoot,
  });
  const admin = new pg.Client({ connectionString: target.url });
  await admin.connect();
  try {
    let seen = false;
    for (let i = 0; i < 3000 && !seen; i++) {
      const { rows } = await admin.query(
        `select 1 from pg_stat_activity where datname = current_database()
           and application_name = 'replay-env materialize' and state = 'active' and query like $1`,
        [running],
      );
      seen = rows.length > 0;
      if (!seen) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    child.kill(signal);
    const ended = await child;
    for (let i = 0; i < 500; i++) {
      const { rows } = await admin.query(
        "select 1 from pg_stat_activity where datname = current_database() and application_name = 'replay-env materialize'",
      );
      if (rows.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return { seen, signal: ended.signal, exitCode: ended.exitCode, stderr: String(ended.stderr) };
  } finally {
    await admin.end();
  }
}
