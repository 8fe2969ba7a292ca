import type { Event, RunTrace } from '../../src/generated/trace.js';

/** The fixed time of the hand-built traces golden tests compare. */
export const traceTime = '2026-12-01T10:00:00.000Z';

/** A minimal teamdesk run trace holding `events` (gate continue), for tests that normalise or compare. */
export function runTrace(events: Event[], extra: Partial<RunTrace> = {}): RunTrace {
  return {
    schemaVersion: 1,
    kind: 'replay-env-run-trace',
    app: 'teamdesk',
    startedAt: traceTime,
    finishedAt: traceTime,
    capsule: null,
    events,
    judges: [],
    facts: {},
    gate: 'continue',
    gateReasons: [],
    ...extra,
  };
}
