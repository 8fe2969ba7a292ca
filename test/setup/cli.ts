import { fileURLToPath } from 'node:url';

import { execa, type Options } from 'execa';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
/** The built CLI's entry point. */
export const runJs = fileURLToPath(new URL('../../bin/run.js', import.meta.url));

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (`bin/run.js` → `dist/`) as a user would; never throws on a non-zero exit. */
export async function runCli(args: string[], options: Options = {}): Promise<CliResult> {
  const result = await execa('node', [runJs, ...args], {
    reject: false,
    cwd: repoRoot,
    timeout: 120_000,
    ...options,
    env: { NO_COLOR: '1', ...options.env },
  });
  return {
    exitCode: result.exitCode ?? -1,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
  };
}

/** Parses stdout as exactly one JSON document (the `--json` contract); throws if it is not. */
export function parseJsonOutput<T = unknown>(stdout: string): T {
  return JSON.parse(stdout) as T;
}
