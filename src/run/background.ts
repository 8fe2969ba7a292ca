import type { BackgroundEvent } from '../generated/trace.js';
import type { ParsedCommand } from '../manifest/index.js';
import { scrubSecrets } from '../secrets.js';
import { type ShellProcess, startShell } from './shell-process.js';
import { describeWaitFor, waitFor } from './wait-for.js';

/** A background command while it runs; `stop()` fills in its event. */
export interface RunningBackground {
  event: BackgroundEvent;
  /** It already failed: never became ready, or exited. */
  failed(): boolean;
  stop(graceMs: number): Promise<void>;
}

/**
 * Starts a background command and waits until it is ready (its `waitFor`, if any). The event is failed
 * when the process exits before it is stopped or never becomes ready; either way the caller must `stop()`.
 */
export async function startBackground(options: {
  command: ParsedCommand;
  env: Record<string, string>;
  signal?: AbortSignal;
}): Promise<RunningBackground> {
  const { command } = options;
  const at = new Date().toISOString();
  const started = performance.now();
  const child: ShellProcess = startShell({ command: command.run, cwd: command.cwd, env: options.env });
  const event: BackgroundEvent = {
    kind: 'background',
    name: command.name,
    success: true,
    durationMs: 0,
    at,
    allowFailure: command.allowFailure,
    command: scrubSecrets(command.run),
    cwd: command.cwd,
    ...(child.pid === undefined ? {} : { pid: child.pid }),
    ready: false,
    exitedEarly: false,
    exitCode: null,
    signal: null,
    stdout: '',
    stderr: '',
  };
  if (command.waitFor) {
    event.waitFor = describeWaitFor(command.waitFor);
    const outcome = await waitFor(
      command.waitFor,
      () => child.hasExited() || options.signal?.aborted === true,
    );
    if (outcome === 'ready') {
      event.ready = true;
      event.readyMs = Math.round(performance.now() - started);
    } else if (outcome === 'timeout') {
      event.success = false;
      event.message = `not ready within ${command.waitFor.timeoutSeconds ?? 30}s (waiting for ${event.waitFor})`;
    }
  } else {
    // Without a readiness check, give it a moment so a command that fails at once is caught here.
    await Promise.race([child.exited, new Promise((resolve) => setTimeout(resolve, 200))]);
    event.ready = !child.hasExited();
  }
  let stopped = false;
  return {
    event,
    failed: () => !event.success || child.hasExited(),
    async stop(graceMs) {
      if (stopped) return;
      stopped = true;
      const exitedEarly = child.hasExited();
      const exit = await child.stop(graceMs);
      event.durationMs = Math.round(performance.now() - started);
      event.stdout = scrubSecrets(child.stdout.text());
      event.stderr = scrubSecrets(child.stderr.text());
      event.exitCode = exit.exitCode;
      event.signal = exit.signal;
      if (exit.spawnError) {
        event.success = false;
        event.message = scrubSecrets(`could not start: ${exit.spawnError}`);
      } else if (exitedEarly) {
        event.exitedEarly = true;
        event.success = false;
        event.message ??= `exited early (${exit.signal ? `signal ${exit.signal}` : `exit status ${exit.exitCode}`})`;
      }
    },
  };
}
