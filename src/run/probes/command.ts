import { isAbsolute, resolve } from 'node:path';

import { scrubSecrets } from '../../secrets.js';
import { runShell } from '../run-shell.js';
import { type ParsedProbe, type ProbeContext, type ProbeEvent, probeEventBase } from './types.js';

/** A command probe: a shell command line that must exit 0 within the timeout (enforced on its tree). */
export async function runCommandProbe(probe: ParsedProbe, context: ProbeContext): Promise<ProbeEvent> {
  const at = new Date().toISOString();
  const cwd = probe.cwd
    ? isAbsolute(probe.cwd)
      ? probe.cwd
      : resolve(context.manifest.repoPath, probe.cwd)
    : context.manifest.repoPath;
  const result = await runShell({
    command: probe.command!,
    cwd,
    env: context.env,
    timeoutMs: probe.timeoutSeconds * 1000,
    graceMs: context.graceMs,
    ...(context.signal ? { signal: context.signal } : {}),
  });
  return {
    ...probeEventBase(probe, at),
    success: result.failure === undefined,
    durationMs: result.durationMs,
    ...(result.failure ? { message: result.failure } : {}),
    command: scrubSecrets(probe.command!),
    cwd,
    exitCode: result.exitCode,
    signal: result.signal,
    timedOut: result.timedOut,
    stdout: result.stdout,
    stderr: result.stderr,
  };
}
