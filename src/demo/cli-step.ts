import { fileURLToPath } from 'node:url';

import { execa, type ResultPromise } from 'execa';

import { SubprocessError } from '../errors.js';
import { scrubSecrets } from '../secrets.js';

const runJs = fileURLToPath(new URL('../../bin/run.js', import.meta.url));

export interface CliStepResult {
  /** The command as a user would type it (URLs shown as env var references, never with passwords). */
  display: string;
  exitCode: number;
  durationMs: number;
  stdout: string;
  stderr: string;
}

export interface CliStepOptions {
  cwd: string;
  env: Record<string, string>;
  /** Receives output as it arrives, for live display; omitted under --json. */
  onOutput?: (text: string) => void;
}

/**
 * Runs one real replay-env command as a child process — exactly what a user typing it would get, so a
 * broken command breaks the demo.
 */
export async function runCliStep(args: string[], options: CliStepOptions): Promise<CliStepResult> {
  const started = Date.now();
  const child = execa(process.execPath, [runJs, ...args], {
    cwd: options.cwd,
    env: { ...options.env, NO_COLOR: '1' },
    reject: false,
    all: true,
  });
  forward(child, options.onOutput);
  const result = await child;
  return {
    display: `replay-env ${args.join(' ')}`,
    exitCode: result.exitCode ?? 1,
    durationMs: Date.now() - started,
    stdout: scrubSecrets(String(result.stdout ?? '')),
    stderr: scrubSecrets(String(result.stderr ?? '')),
  };
}

/** Starts a long-running replay-env command (the recording proxy); the caller stops it. */
export function startCliProcess(args: string[], options: CliStepOptions): ResultPromise {
  const child = execa(process.execPath, [runJs, ...args], {
    cwd: options.cwd,
    env: { ...options.env, NO_COLOR: '1' },
    reject: false,
    all: true,
  });
  forward(child, options.onOutput);
  return child;
}

function forward(child: ResultPromise, onOutput: ((text: string) => void) | undefined): void {
  if (!onOutput) return;
  child.all?.on('data', (chunk: Buffer) => onOutput(scrubSecrets(chunk.toString('utf8'))));
}

/**
 * A demo step that exits other than expected is a subprocess failure outside any gate's judgement: exit 5
 * (`run`'s own commands are judged by the gate instead; docs/run.md).
 */
export function expectStepExit(title: string, result: CliStepResult, expected: number[]): void {
  if (expected.includes(result.exitCode)) return;
  throw new SubprocessError(
    `demo step "${title}" exited with ${result.exitCode}`,
    'the output above shows why; this is a bug in replay-env or its sample app',
  );
}
