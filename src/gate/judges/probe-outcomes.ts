import { type StepEvent, stepEvents } from '../../egress/event.js';
import type { Event } from '../../generated/trace.js';
import type { JudgeResult } from './types.js';

/** Probe and command outcomes: fail when a required step failed, warn when only allowed ones did. */
export function judgeProbeOutcomes(events: Event[]): JudgeResult {
  const id = 'probe_outcomes';
  const steps = stepEvents(events).filter((event) => event.kind !== 'materialize');
  const failed = steps.filter((event) => !event.success && !event.skipped);
  const required = failed.filter((event) => !('allowFailure' in event && event.allowFailure));
  const describe = (event: StepEvent): string =>
    `${event.kind} ${event.name} failed${event.message ? `: ${event.message}` : ''}`;
  if (required.length > 0) return { id, verdict: 'fail', reasons: required.map(describe) };
  if (failed.length > 0) {
    return { id, verdict: 'warn', reasons: failed.map((event) => `${describe(event)} (allowFailure)`) };
  }
  const skipped = steps.filter((event) => event.skipped);
  if (skipped.length > 0) {
    return { id, verdict: 'warn', reasons: skipped.map((event) => `${event.kind} ${event.name} not run`) };
  }
  const ran = steps.filter((event) => !event.skipped).length;
  return { id, verdict: 'pass', reasons: [`${ran} command(s) and probe(s) succeeded`] };
}
