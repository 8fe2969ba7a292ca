import { execa } from 'execa';

import { OutputCapture } from './output-capture.js';
import { groupAlive, stopGroup, trackGroup } from './process-group.js';

export interface ShellExit {
  exitCode: number | null;
  signal: string | null;
  /** Set when the process could not be started at all (missing cwd, …). */
  spawnError?: string;
}

/** A shell command line running in its own process group, its output captured (bounded). */
export interface ShellProcess {
  pid: number | undefined;
  stdout: OutputCapture;
  stderr: OutputCapture;
  /** Resolves when the shell itself has exited (its children may live on until `stop`). */
  exited: Promise<ShellExit>;
  hasExited(): boolean;
  /** Stops the whole tree (SIGTERM, SIGKILL after the grace period) and waits for the output to close. */
  stop(graceMs: number): Promise<ShellExit>;
}

/**
 * Starts `command` with the shell (`/bin/sh -c`), detached so the child leads a new process group whose
 * whole tree can be signalled. The environment is exactly `env` (no implicit inheritance).
 */
export function startShell(options: {
  command: string;
  cwd: string;
  env: Record<string, string>;
}): ShellProcess {
  const stdout = new OutputCapture();
  const stderr = new OutputCapture();
  const child = execa(options.command, {
    shell: true,
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    detached: true,
    stdin: 'ignore',
    buffer: false,
    reject: false,
    // We stop process groups ourselves (execa's cleanup only reaches the shell, not its children).
    cleanup: false,
  });
  const pid = child.pid;
  if (pid !== undefined) trackGroup(pid);
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  let done = false;
  const exited = new Promise<ShellExit>((resolve) => {
    child.on('exit', (code, signal) => {
      done = true;
      resolve({ exitCode: code, signal });
    });
    child.on('error', (error) => {
      done = true;
      resolve({ exitCode: null, signal: null, spawnError: error.message });
    });
  });
  // The full result settles when stdio closes; it never rejects (reject: false).
  const settled = child.then(
    () => undefined,
    () => undefined,
  );
  return {
    pid,
    stdout,
    stderr,
    exited,
    hasExited: () => done,
    async stop(graceMs) {
      if (pid !== undefined && (!done || groupAlive(pid))) await stopGroup(pid, graceMs);
      const result = await exited;
      // Output may still be draining from the pipes; give it a moment, but never hang on it.
      await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, 1000))]);
      return result;
    },
  };
}
