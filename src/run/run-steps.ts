import type { Event } from '../generated/trace.js';
import type { ParsedManifest } from '../manifest/index.js';
import { defaultCommandTimeoutSeconds } from '../manifest/parsed-manifest.js';
import { scrubSecrets } from '../secrets.js';
import { type RunningBackground, startBackground } from './background.js';
import { browserSessionFor } from './browser-session.js';
import { childEnv } from './child-env.js';
import { type ProbeContext, runProbe, skippedProbe } from './probes/index.js';
import { runShell } from './run-shell.js';

export type StepNotice =
  { kind: 'start'; step: 'command' | 'background' | 'probe'; name: string } | { kind: 'end'; event: Event };

/**
 * Runs the manifest's commands in order (background ones are started and left running; the others run to
 * completion), then every probe. After a required step fails, or on interrupt, later steps are recorded
 * as skipped. Returns the running background commands: the caller must stop them, whatever happens.
 */
export async function runSteps(options: {
  manifest: ParsedManifest;
  context: Omit<ProbeContext, 'env'> & { parentEnv: NodeJS.ProcessEnv };
  events: Event[];
  backgrounds: RunningBackground[];
  skipReason: () => string | undefined;
  notify: (notice: StepNotice) => void;
}): Promise<void> {
  const { manifest, context, events, backgrounds, notify } = options;
  const base = { manifest, databaseUrl: context.databaseUrl, parentEnv: context.parentEnv };
  let stopReason = options.skipReason();
  const record = (event: Event): void => {
    events.push(event);
    notify({ kind: 'end', event });
  };
  for (const command of manifest.commands) {
    stopReason ??= options.skipReason();
    const env = childEnv({ ...base, ...(command.env ? { extra: command.env } : {}) });
    if (stopReason) {
      record(skippedCommand(command, stopReason));
      continue;
    }
    notify({ kind: 'start', step: command.background ? 'background' : 'command', name: command.name });
    if (command.background) {
      const running = await startBackground({
        command,
        env,
        ...(context.signal ? { signal: context.signal } : {}),
      });
      backgrounds.push(running);
      record(running.event);
      if (running.failed() && !command.allowFailure) stopReason = `background command ${command.name} failed`;
      continue;
    }
    const timeoutSeconds = command.timeoutSeconds ?? defaultCommandTimeoutSeconds;
    const at = new Date().toISOString();
    const result = await runShell({
      command: command.run,
      cwd: command.cwd,
      env,
      timeoutMs: timeoutSeconds * 1000,
      graceMs: context.graceMs,
      ...(context.signal ? { signal: context.signal } : {}),
    });
    record({
      kind: 'command',
      name: command.name,
      success: result.failure === undefined,
      durationMs: result.durationMs,
      at,
      allowFailure: command.allowFailure,
      ...(result.failure ? { message: result.failure } : {}),
      command: scrubSecrets(command.run),
      cwd: command.cwd,
      exitCode: result.exitCode,
      signal: result.signal,
      timedOut: result.timedOut,
      timeoutSeconds,
      stdout: result.stdout,
      stderr: result.stderr,
    });
    if (result.failure && !command.allowFailure) stopReason = `command ${command.name} failed`;
  }
  const browser = browserSessionFor(manifest, context.parentEnv);
  const probeContext: ProbeContext = { ...context, env: childEnv(base), ...(browser ? { browser } : {}) };
  try {
    for (const probe of manifest.probes) {
      stopReason ??= options.skipReason();
      if (stopReason) {
        record(skippedProbe(probe, `not run: ${stopReason}`));
        continue;
      }
      notify({ kind: 'start', step: 'probe', name: probe.name });
      record(await runProbe(probe, probeContext));
    }
  } finally {
    await browser?.close();
  }
}

function skippedCommand(command: ParsedManifest['commands'][number], reason: string): Event {
  const common = {
    name: command.name,
    success: false,
    durationMs: 0,
    at: new Date().toISOString(),
    allowFailure: command.allowFailure,
    skipped: true,
    message: `not run: ${reason}`,
    command: scrubSecrets(command.run),
    cwd: command.cwd,
    exitCode: null,
    signal: null,
    stdout: '',
    stderr: '',
  };
  return command.background
    ? { kind: 'background', ...common, ready: false, exitedEarly: false }
    : { kind: 'command', ...common, timedOut: false };
}
