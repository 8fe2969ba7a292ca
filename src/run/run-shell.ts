import { scrubSecrets } from '../secrets.js';
import { startShell } from './shell-process.js';

export interface ShellRunResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Stopped because the run was interrupted. */
  aborted: boolean;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** One line explaining a failure, undefined on success. */
  failure: string | undefined;
}

/**
 * Runs a shell command line to completion with a timeout on its whole process tree. When the shell exits,
 * anything it left running in its group is stopped too (a foreground step must not leak processes).
 */
export async function runShell(options: {
  command: string;
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  graceMs: number;
  signal?: AbortSignal;
}): Promise<ShellRunResult> {
  const started = performance.now();
  const child = startShell(options);
  let timedOut = false;
  let aborted = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void child.stop(options.graceMs);
  }, options.timeoutMs);
  const onAbort = (): void => {
    aborted = true;
    void child.stop(options.graceMs);
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  // Aborted before the listener was added: no event will come.
  if (options.signal?.aborted) onAbort();
  try {
    await child.exited;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
  const exit = await child.stop(options.graceMs);
  const failure = exit.spawnError
    ? `could not start: ${exit.spawnError}`
    : timedOut
      ? `timed out after ${options.timeoutMs / 1000}s; process tree killed`
      : aborted
        ? 'interrupted; process tree stopped'
        : exit.exitCode !== 0
          ? exit.signal
            ? `killed by ${exit.signal}`
            : `exit status ${exit.exitCode}`
          : undefined;
  return {
    exitCode: exit.exitCode,
    signal: exit.signal,
    timedOut,
    aborted,
    stdout: scrubSecrets(child.stdout.text()),
    stderr: scrubSecrets(child.stderr.text()),
    durationMs: Math.round(performance.now() - started),
    failure: failure === undefined ? undefined : scrubSecrets(failure),
  };
}
