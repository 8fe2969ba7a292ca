import { connect } from 'node:net';

export interface WaitForSpec {
  url?: string;
  port?: number;
  host?: string;
  timeoutSeconds?: number;
}

export const defaultWaitForSeconds = 30;
const pollMs = 100;

/** What readiness means, for messages and the trace: a URL or host:port. */
export function describeWaitFor(spec: WaitForSpec): string {
  return spec.url ?? `${spec.host ?? '127.0.0.1'}:${spec.port ?? '?'}`;
}

/**
 * Polls until `spec` is ready — the URL answers with any HTTP status, or the TCP port accepts — or until
 * `giveUp()` says to stop (the process exited, the run was interrupted) or the timeout passes.
 * Resolves to 'ready', 'timeout' or 'gave-up'.
 */
export async function waitFor(
  spec: WaitForSpec,
  giveUp: () => boolean,
): Promise<'ready' | 'timeout' | 'gave-up'> {
  const deadline = Date.now() + (spec.timeoutSeconds ?? defaultWaitForSeconds) * 1000;
  const attempt = spec.url
    ? () => httpAnswers(spec.url!)
    : () => portAccepts(spec.host ?? '127.0.0.1', spec.port!);
  for (;;) {
    if (giveUp()) return 'gave-up';
    if (await attempt()) return 'ready';
    if (giveUp()) return 'gave-up';
    if (Date.now() >= deadline) return 'timeout';
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

async function httpAnswers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

function portAccepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}
