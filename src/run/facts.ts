import { egressEvents, type StepEvent, stepEvents } from '../egress/event.js';
import type { Facts } from '../gate/facts.js';
import type {
  CapsuleEvidence,
  CapsuleUnreadable,
  CredentialScan,
  MaterializationEvidence,
} from '../gate/judges/types.js';
import type { Event, JudgeResult } from '../generated/trace.js';

/** Everything the facts are computed from. */
export interface FactInputs {
  commands: string[];
  probes: string[];
  events: Event[];
  judges: JudgeResult[];
  capsule: CapsuleEvidence | CapsuleUnreadable | undefined;
  scan: CredentialScan | undefined;
  materialization: MaterializationEvidence;
  interrupted: boolean;
  /** The egress guard was started, so every command and probe that ran had its proxy. */
  egressGuarded: boolean;
}

/** The facts a gate policy is evaluated over (names and types: src/gate/facts.ts). */
export function computeFacts(input: FactInputs): Facts {
  const verdict = (id: string): Facts[string] =>
    input.judges.find((judge) => judge.id === id)?.verdict ?? null;
  const capsule = input.capsule && !('error' in input.capsule) ? input.capsule : undefined;
  const steps = stepEvents(input.events).filter((event) => event.kind !== 'materialize');
  const commandEvents = steps.filter((event) => event.kind === 'command' || event.kind === 'background');
  const probeEvents = steps.filter((event) => event.kind === 'probe');
  const failed = (events: StepEvent[]): StepEvent[] =>
    events.filter((event) => !event.success && !event.skipped);
  const required = (events: StepEvent[]): StepEvent[] =>
    failed(events).filter((event) => !('allowFailure' in event && event.allowFailure));
  const sessions = probeEvents.filter((event) => event.probeKind === 'session');
  const facts: Facts = {
    materialization_failed: input.materialization.status === 'failed',
    materialized: input.materialization.status === 'done',
    capsule_integrity: verdict('capsule_integrity'),
    materialization_integrity: verdict('materialization_integrity'),
    credentials_in_safe_export: verdict('credentials_in_safe_export'),
    probe_outcomes: verdict('probe_outcomes'),
    credentials_found: input.scan?.scanned ? input.scan.findings.length : null,
    graph_size: capsule ? capsule.graphSize : null,
    graph_related_users: capsule ? capsule.graphSize - (capsule.graphHasSubject ? 1 : 0) : null,
    capsule_rows: capsule ? Object.values(capsule.tables).reduce((sum, n) => sum + n, 0) : null,
    redaction: capsule ? capsule.redaction : null,
    commands_total: input.commands.length,
    commands_failed: failed(commandEvents).length,
    required_commands_failed: required(commandEvents).length,
    commands_skipped: commandEvents.filter((event) => event.skipped).length,
    probes_total: input.probes.length,
    probes_failed: failed(probeEvents).length,
    required_probes_failed: required(probeEvents).length,
    probes_skipped: probeEvents.filter((event) => event.skipped).length,
    allowed_failures: failed(steps).length - required(steps).length,
    session_mismatches: sessions.reduce((sum, event) => sum + (event.mismatched ?? 0), 0),
    session_errors: sessions.reduce((sum, event) => sum + (event.newErrors ?? 0), 0),
    ...browserFacts(probeEvents),
    interrupted: input.interrupted,
    golden_diffs: null,
    capsule_subject_missing: capsule ? !capsule.graphHasSubject : null,
    safe_export_contains_credentials:
      verdict('credentials_in_safe_export') === null
        ? null
        : verdict('credentials_in_safe_export') === 'fail',
    raw_export_requested: capsule ? capsule.redaction === 'raw' : null,
  };
  const egress = egressEvents(input.events);
  const verdicts = (verdict: string): number => egress.filter((event) => event.verdict === verdict).length;
  facts.egress_denied = verdicts('denied');
  facts.egress_stubbed = verdicts('stubbed');
  facts.egress_allowed = verdicts('allowed');
  facts.egress_isolated = input.egressGuarded && facts.egress_allowed === 0;
  const outcome = (event: StepEvent | undefined): string =>
    !event || event.skipped ? 'skipped' : event.success ? 'pass' : 'fail';
  for (const name of input.commands)
    facts[`command.${name}`] = outcome(commandEvents.find((event) => event.name === name));
  for (const name of input.probes)
    facts[`probe.${name}`] = outcome(probeEvents.find((event) => event.name === name));
  return facts;
}

/** Evidence counts over every browser probe (kept entries plus those beyond the per-list limit). */
function browserFacts(probeEvents: Event[]): Facts {
  const counts = { consoleErrors: 0, pageErrors: 0, failedRequests: 0 };
  for (const event of probeEvents) {
    if (event.kind !== 'probe' || event.probeKind !== 'browser') continue;
    for (const list of ['consoleErrors', 'pageErrors', 'failedRequests'] as const) {
      counts[list] += (event[list]?.length ?? 0) + (event.droppedEvidence?.[list] ?? 0);
    }
  }
  return {
    browser_console_errors: counts.consoleErrors,
    browser_page_errors: counts.pageErrors,
    browser_failed_requests: counts.failedRequests,
  };
}
