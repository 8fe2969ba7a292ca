import type { EgressEvent, Event } from '../generated/trace.js';

/** A trace event of a step (materialize, command, background, probe): every event but an egress one. */
export type StepEvent = Exclude<Event, EgressEvent>;

/** The events of steps, without the egress events recorded alongside them. */
export function stepEvents(events: readonly Event[]): StepEvent[] {
  return events.filter((event): event is StepEvent => event.kind !== 'egress');
}

/** The egress events of a trace, in the order they happened. */
export function egressEvents(events: readonly Event[]): EgressEvent[] {
  return events.filter((event): event is EgressEvent => event.kind === 'egress');
}
