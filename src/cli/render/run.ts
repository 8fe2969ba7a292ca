import Table from 'cli-table3';

import { egressEvents, type StepEvent, stepEvents } from '../../egress/event.js';
import type { RunProgress, RunResult } from '../../services/run.js';
import { renderGoldenComparison } from './golden.js';

/** The human summary printed at the end of `run`: events, judges, the verdict with its reasons. */
export function renderRunSummary(result: RunResult): string {
  const { trace } = result;
  const events = new Table({ head: ['step', 'kind', 'result', 'time'], style: { head: [], border: [] } });
  const steps = stepEvents(trace.events);
  for (const event of steps) {
    events.push([event.name, kindLabel(event), outcome(event), seconds(event.durationMs)]);
  }
  const lines = [`replay-env run: ${trace.app}`, ''];
  if (trace.capsule) {
    const rows = Object.values(trace.capsule.rowCounts).reduce((sum, n) => sum + n, 0);
    lines.push(
      `capsule  ${trace.capsule.path} (${rows} ${rows === 1 ? 'row' : 'rows'}, ${Object.keys(trace.capsule.rowCounts).length} tables)`,
    );
  }
  if (trace.database) lines.push(`database ${trace.database}`);
  if (steps.length > 0) lines.push(events.toString());
  else lines.push('(no steps)');
  lines.push(...renderEgress(trace.events));
  const recording = result.egressRecording;
  if (recording) {
    lines.push(
      `  recorded ${recording.stubs} ${recording.stubs === 1 ? 'stub' : 'stubs'} to ${recording.path}`,
    );
    lines.push(...recording.skipped.map((line) => `  not recorded: ${line}`));
  }
  const screenshots = trace.events.flatMap((event) =>
    'screenshot' in event && event.screenshot ? [`screenshot ${event.name}: ${event.screenshot}`] : [],
  );
  if (screenshots.length > 0) lines.push('', ...screenshots);
  const failures = steps.filter((event) => !event.success && event.message);
  if (failures.length > 0) {
    lines.push('', ...failures.map((event) => `${event.name}: ${event.message}`));
  }
  lines.push('', 'judges:');
  for (const judge of trace.judges)
    lines.push(`  ${judge.verdict.padEnd(4)}  ${judge.id}: ${judge.reasons.join('; ')}`);
  lines.push(...renderGoldenComparison(trace.golden));
  lines.push('', `gate: ${trace.gate.toUpperCase()}`);
  for (const reason of trace.gateReasons) lines.push(`  - ${reason}`);
  lines.push(
    '',
    result.tracePath ? `trace: ${result.tracePath}` : 'trace: not written (pass --trace-out FILE)',
  );
  if (result.junitPath) lines.push(`junit: ${result.junitPath}`);
  return lines.join('\n');
}

/** One progress line per step, for stderr while the run is going. */
export function renderProgress(notice: RunProgress): string | undefined {
  if (notice.kind === 'start') return `▶ ${notice.step} ${notice.name}`;
  const { event } = notice;
  if (event.kind === 'background' && event.success && !event.skipped) return `  ${event.name} started`;
  return `  ${event.name}: ${outcome(event)} (${seconds(event.durationMs)})`;
}

function kindLabel(event: StepEvent): string {
  return event.kind === 'probe' ? `probe/${event.probeKind}` : event.kind;
}

function outcome(event: StepEvent): string {
  if (event.skipped) return 'skipped';
  if (event.success) return 'ok';
  // Stopped by Ctrl-C/SIGTERM (`interrupted`, `interrupted; process tree stopped`): not a failure of its own.
  if (event.message?.startsWith('interrupted')) return 'interrupted';
  return 'allowFailure' in event && event.allowFailure ? 'failed (allowed)' : 'FAILED';
}

/** The egress guard's hosts, one line per verdict (SPEC: the run summary lists the hosts). */
function renderEgress(events: RunResult['trace']['events']): string[] {
  const egress = egressEvents(events);
  if (egress.length === 0) return [];
  const lines = ['egress:'];
  for (const verdict of ['denied', 'stubbed', 'allowed'] as const) {
    const hosts = [...new Set(egress.filter((e) => e.verdict === verdict).map((e) => e.host))];
    if (hosts.length > 0) lines.push(`  ${verdict.padEnd(7)}  ${hosts.sort().join(', ')}`);
  }
  return lines;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`;
}

/** `--profile`: the run's phase timings on one line. */
export function renderRunPhases(phases: RunResult['phases']): string {
  return `phases: ${Object.entries(phases)
    .map(([phase, ms]) => `${phase} ${ms}ms`)
    .join(', ')}`;
}
