import type { StepProxy } from '../../egress/guard.js';
import { isReplayEnvError } from '../../errors.js';
import type { ProbeEvent } from '../../generated/trace.js';
import type { ParsedManifest, ParsedProbe } from '../../manifest/index.js';
import type { DatabaseUrl } from '../../postgres/database-url.js';
import { scrubSecrets } from '../../secrets.js';
import type { BrowserSession } from '../browser-session.js';

export interface ProbeContext {
  manifest: ParsedManifest;
  /** Child environment (replay URL set, production URL blocked). */
  env: Record<string, string>;
  databaseUrl: DatabaseUrl | undefined;
  /** The probe's egress proxy: an http probe to a non-loopback host goes through it. */
  proxy?: StepProxy;
  graceMs: number;
  signal?: AbortSignal;
  /** The run's browser (launched on first use), when the manifest has browser probes. */
  browser?: BrowserSession;
  /** Absolute path of the trace file, when one is written: screenshots go next to it. */
  tracePath?: string;
  /** The run's working directory: paths in the trace are relative to it. */
  cwd?: string;
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
