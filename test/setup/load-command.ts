import { type CliResult, runCli } from './cli.js';

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
