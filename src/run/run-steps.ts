import { egressEnv } from '../egress/child-env.js';
import type { StepEvent } from '../egress/event.js';
import type { EgressGuard, StepProxy } from '../egress/guard.js';
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
  | { kind: 'start'; step: 'command' | 'background' | 'probe'; name: string }
  | { kind: 'end'; event: StepEvent };

/**
 * Runs the manifest's commands in order (background ones are started and left running; the others run to
 * completion), then every probe. After a required step fails, or on interrupt, later steps are recorded
 * as skipped. Returns the running background commands: the caller must stop them, whatever happens.
 */
export async function runSteps(options: {
  manifest: ParsedManifest;
  context: Omit<ProbeContext, 'env' | 'proxy'> & { parentEnv: NodeJS.ProcessEnv };
  guard: EgressGuard;
  events: Event[];
  backgrounds: RunningBackground[];
  skipReason: () => string | undefined;
  notify: (notice: StepNotice) => void;
}): Promise<void> {
  const { manifest, context, events, backgrounds, notify, guard } = options;
  const base = { manifest, databaseUrl: context.databaseUrl, parentEnv: context.parentEnv };
  // The one place a step's environment is built: the allow-listed child environment, then the egress
  // variables of the step's own proxy on top (a step's `env` cannot route around the guard).
  const guarded = async (
    step: 'command' | 'background' | 'probe',
    name: string,
    extra: Record<string, string> | undefined,
  ): Promise<{ env: Record<string, string>; proxy: StepProxy }> => {
    const env = childEnv({ ...base, ...(extra ? { extra } : {}) });
    const proxy = await guard.proxyFor(step, name);
    return { env: { ...env, ...egressEnv(proxy.url, guard.ca, env) }, proxy };
  };
  let stopReason = options.skipReason();
  const record = (event: StepEvent): void => {
    events.push(event);
    notify({ kind: 'end', event });
  };
  for (const command of manifest.commands) {
    stopReason ??= options.skipReason();
    if (stopReason) {
      record(skippedCommand(command, stopReason));
      continue;
    }
    const { env } = await guarded(command.background ? 'background' : 'command', command.name, command.env);
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
  try {
    for (const probe of manifest.probes) {
      stopReason ??= options.skipReason();
      if (stopReason) {
        record(skippedProbe(probe, `not run: ${stopReason}`));
        continue;
      }
      notify({ kind: 'start', step: 'probe', name: probe.name });
      const { env, proxy } = await guarded('probe', probe.name, undefined);
      record(await runProbe(probe, { ...context, env, proxy, ...(browser ? { browser } : {}) }));
    }
  } finally {
    await browser?.close();
  }
}

function skippedCommand(command: ParsedManifest['commands'][number], reason: string): StepEvent {
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
