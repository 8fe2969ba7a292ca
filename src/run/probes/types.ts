import type { ProbeEvent } from '../../generated/trace.js';
import type { ParsedManifest, ParsedProbe } from '../../manifest/index.js';
import type { DatabaseUrl } from '../../postgres/database-url.js';
import type { BrowserSession } from '../browser-session.js';

export interface ProbeContext {
  manifest: ParsedManifest;
  /** Child environment (replay URL set, production URL blocked). */
  env: Record<string, string>;
  databaseUrl: DatabaseUrl | undefined;
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
