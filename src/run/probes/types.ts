import { isReplayEnvError } from '../../errors.js';
import type { ProbeEvent } from '../../generated/trace.js';
import type { ParsedManifest, ParsedProbe } from '../../manifest/index.js';
import type { DatabaseUrl } from '../../postgres/database-url.js';
import { scrubSecrets } from '../../secrets.js';

export interface ProbeContext {
  manifest: ParsedManifest;
  /** Child environment (replay URL set, production URL blocked). */
  env: Record<string, string>;
  databaseUrl: DatabaseUrl | undefined;
  graceMs: number;
  signal?: AbortSignal;
}

export type { ParsedProbe, ProbeEvent };

/** The fields every probe event starts with. */
export function probeEventBase(probe: ParsedProbe, at: string): ProbeEvent {
  return {
    kind: 'probe',
    name: probe.name,
    probeKind: probe.kind,
    success: false,
    durationMs: 0,
    at,
    allowFailure: probe.allowFailure,
  };
}

/**
 * The end every probe that checks a result shares: runs `work` (which fills in `event` and returns the
 * failure message, if any), takes a thrown error as the failure, scrubs secrets from the message and
 * records success and the time since `started`.
 */
export async function settleProbe(
  event: ProbeEvent,
  started: number,
  work: () => Promise<string | undefined>,
): Promise<ProbeEvent> {
  try {
    event.message = await work();
  } catch (error) {
    event.message = isReplayEnvError(error) ? error.message : (error as Error).message;
  }
  event.success = event.message === undefined;
  if (event.message) event.message = scrubSecrets(event.message);
  event.durationMs = Math.round(performance.now() - started);
  return event;
}
