import { egressEvents, type StepEvent } from '../egress/event.js';
import type { NormaliseOptions } from '../generated/golden.js';
import type { GoldenEvidence } from '../generated/golden.js';
import type { CommandEvent, EgressEvent, ProbeEvent, RunTrace } from '../generated/trace.js';
import { sortKeys } from './canonical.js';

export type { GoldenEvidence, NormaliseOptions };

export const defaultNormaliseOptions: NormaliseOptions = { headers: ['content-type'], stdout: [] };

/** One probe kind's evidence: what the probe saw, beyond its outcome. */
export type ProbeNormaliser = (event: ProbeEvent, options: NormaliseOptions) => Record<string, unknown>;

/**
 * What each probe kind contributes to a golden trace. A new probe kind plugs in with one entry here; a kind
 * without one is compared by outcome only.
 */
export const probeNormalisers: Record<string, ProbeNormaliser> = {
  http: (event, options) => ({
    status: event.status ?? null,
    headers: pickHeaders(event.headers ?? {}, options.headers),
    body: event.bodyJson !== undefined ? event.bodyJson : (event.body ?? null),
  }),
  sql: (event) => ({
    rowCount: event.rowCount ?? null,
    columns: event.columns ?? null,
    rows: event.rows ?? null,
  }),
  session: (event) => ({
    queriesExecuted: event.queriesExecuted ?? null,
    matched: event.matched ?? null,
    mismatched: event.mismatched ?? null,
    errors: event.errors ?? null,
    newErrors: event.newErrors ?? null,
  }),
  command: (event, options) => ({
    exitCode: event.exitCode ?? null,
    ...(options.stdout.includes(event.name) ? { stdout: event.stdout ?? '' } : {}),
  }),
};

/**
 * A trace's evidence, normalised for comparison (SPEC §10): per probe its outcome and what it saw, per
 * command its outcome and exit status (stdout only when asked), materialized rows per table, the outside
 * requests per step (egress), and the gate as it was before any golden comparison. Timings, timestamps
 * and paths are left out on purpose.
 */
export function normaliseTrace(trace: RunTrace, options: NormaliseOptions): GoldenEvidence {
  const materialize = trace.events.find((event) => event.kind === 'materialize');
  const commands: Record<string, Record<string, unknown>> = {};
  const probes: Record<string, Record<string, unknown>> = {};
  for (const event of trace.events) {
    if (event.kind === 'command' || event.kind === 'background') {
      commands[event.name] = commandEvidence(event, options);
    } else if (event.kind === 'probe') {
      const normaliser = probeNormalisers[event.probeKind];
      probes[event.name] = {
        kind: event.probeKind,
        outcome: outcome(event),
        ...(normaliser && !event.skipped ? normaliser(event, options) : {}),
      };
    }
  }
  return sortKeys({
    gate: trace.golden?.gateBeforeGolden ?? trace.gate,
    materialized:
      materialize && materialize.kind === 'materialize' && materialize.success
        ? (materialize.loaded ?? materialize.rowCounts)
        : null,
    commands,
    probes,
    egress: egressEvidence(egressEvents(trace.events)),
  }) as GoldenEvidence;
}

/**
 * Per step, how many times each `VERDICT METHOD host:port/path` happened. Counted, not listed: requests of
 * one step can interleave differently from run to run, but a replay that suddenly calls a new provider,
 * calls one more often, or gets a stub where it was denied differs from its golden.
 */
export function egressEvidence(events: readonly EgressEvent[]): Record<string, Record<string, number>> {
  const evidence: Record<string, Record<string, number>> = {};
  for (const event of events) {
    const key = `${event.verdict} ${event.method} ${event.host}:${event.port ?? ''}${event.path ?? ''}`;
    // Keyed by kind and name: a command and a probe may share a name.
    const step = (evidence[`${event.step} ${event.name}`] ??= {});
    step[key] = (step[key] ?? 0) + 1;
  }
  return evidence;
}

function commandEvidence(event: StepEvent, options: NormaliseOptions): Record<string, unknown> {
  const command = event as CommandEvent;
  return {
    kind: event.kind,
    outcome: outcome(event),
    // A background process's exit status is how replay-env stopped it, not evidence about the app.
    ...(event.kind === 'command' ? { exitCode: command.exitCode ?? null } : {}),
    ...(options.stdout.includes(event.name) ? { stdout: command.stdout ?? '' } : {}),
  };
}

function outcome(event: StepEvent): string {
  if (event.skipped) return 'skipped';
  if (event.success) return 'pass';
  return 'allowFailure' in event && event.allowFailure ? 'allowed_failure' : 'fail';
}

function pickHeaders(headers: Record<string, string>, wanted: string[]): Record<string, string | null> {
  const lower = new Map(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  return Object.fromEntries(
    wanted.map((name) => [name.toLowerCase(), lower.get(name.toLowerCase()) ?? null]),
  );
}
