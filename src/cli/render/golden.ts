import type { GoldenComparison } from '../../generated/trace.js';
import { formatDiff } from '../../golden/format-diff.js';
import type { GoldenSaveResult } from '../../services/golden.js';
import type { ScenarioAddResult } from '../../services/scenario.js';

/** Lines shown by `run` after a golden comparison: the count, then each difference. */
export function renderGoldenComparison(golden: GoldenComparison | undefined): string[] {
  if (!golden) return [];
  const head = `golden: ${golden.file}${golden.scenario ? ` (scenario ${golden.scenario})` : ''}`;
  if (golden.count === 0) return ['', `${head}: no differences`];
  const more =
    golden.count > golden.diffs.length ? [`  … and ${golden.count - golden.diffs.length} more`] : [];
  return [
    '',
    `${head}: ${golden.count} difference(s) (where: path: golden → now)`,
    ...golden.diffs.map((diff) => `  ${formatDiff(diff)}`),
    ...more,
  ];
}

export function renderGoldenSave(result: GoldenSaveResult): string {
  const lines = [
    `golden saved: ${result.file} (scenario ${result.scenario}, app ${result.app})`,
    `  from ${result.trace}: ${result.probes} probe(s), ${result.commands} command(s), ${result.tables} table(s), gate ${result.gate ?? 'unknown'}`,
    '  recorded in loop-state.yaml golden_traces',
  ];
  if (!result.scenarioKnown) {
    lines.push(
      `  note: scenarios.yaml has no scenario "${result.scenario}"; add it with \`replay-env scenario add\``,
    );
  }
  for (const warning of result.warnings) lines.push(`  warning: ${warning}`);
  return lines.join('\n');
}

export function renderScenarioAdd(result: ScenarioAddResult): string {
  const { scenario } = result;
  const lines = [
    `scenario added: ${scenario.id} → ${result.file}`,
    `  capsule ${scenario.capsule} (sha256 ${scenario.capsule_sha256})`,
  ];
  for (const session of scenario.sessions ?? []) lines.push(`  session ${session}`);
  lines.push(
    result.golden
      ? renderGoldenSave(result.golden)
      : '  no golden yet: pass --from-trace, or run `golden save`',
  );
  return lines.join('\n');
}
