import { type CliResult, runCli } from './cli.js';

/** What a loading command is pointed at: a manifest file, a capsule and a replay database URL. */
export interface LoadTarget {
  app: string;
  capsule: string;
  url: string;
}

/** `materialize-postgres` or `run` through the built CLI: `--app`, `--capsule`, `--db-url`, then `extra`. */
export function runLoadCommand(
  command: 'materialize-postgres' | 'run',
  target: LoadTarget,
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<CliResult> {
  return runCli(
    [command, '--app', target.app, '--capsule', target.capsule, '--db-url', target.url, ...extra],
    { env },
  );
}
