import Table from 'cli-table3';

import { formatDiff } from '../../golden/format-diff.js';
import type { CheckResult, ScenarioCheck } from '../../services/check.js';

/** Diffs listed per scenario under the table; the JSON result and the traces have them all. */
const diffsShown = 20;

/** `check`: one table (scenario, verdict, differences, time), the reasons of each failing scenario, the verdict. */
export function renderCheck(result: CheckResult): string {
  const table = new Table({
    head: ['scenario', 'verdict', 'differences', 'time'],
    style: { head: [], border: [] },
  });
  for (const scenario of result.scenarios) {
    table.push([
      scenario.id,
      verdictLabel(scenario),
      differences(scenario),
      `${(scenario.durationMs / 1000).toFixed(2)}s`,
    ]);
  }
  const lines = [`replay-env check: ${result.app}, loop ${result.loop}`, table.toString()];
  for (const scenario of result.scenarios) {
    if (scenario.verdict === 'continue' || scenario.verdict === 'not_executable') continue;
    lines.push('', `${scenario.id}:`);
    for (const reason of scenario.gateReasons) lines.push(`  ${reason}`);
    for (const diff of scenario.diffs.slice(0, diffsShown)) lines.push(`    ${formatDiff(diff)}`);
    const hidden = (scenario.goldenDiffs ?? 0) - Math.min(scenario.diffs.length, diffsShown);
    if (hidden > 0) lines.push(`    … and ${hidden} more (see --json or the trace)`);
  }
  lines.push('', `verdict: ${result.verdict.toUpperCase()} (the worst of ${executed(result)} scenario(s))`);
  if (result.junitPath) lines.push(`junit: ${result.junitPath}`);
  return lines.join('\n');
}

function verdictLabel(scenario: ScenarioCheck): string {
  return scenario.verdict === 'not_executable' ? 'not run (no capsule)' : scenario.verdict;
}

function differences(scenario: ScenarioCheck): string {
  if (scenario.verdict === 'not_executable') return '-';
  if (scenario.error) return `error: ${scenario.error.code}`;
  return scenario.goldenDiffs === null ? 'no golden' : String(scenario.goldenDiffs);
}

function executed(result: CheckResult): number {
  return result.scenarios.filter((scenario) => scenario.verdict !== 'not_executable').length;
}
