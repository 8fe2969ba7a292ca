import { formatDiff } from '../golden/format-diff.js';
import { xml } from '../run/junit.js';
import type { ScenarioCheck } from './check-types.js';

/**
 * `check --junit`: one test case per scenario. A blocked or human_review scenario fails with its reasons and
 * every golden difference as the failure text; a prose-only scenario is skipped (and says so).
 */
export function toCheckJunit(app: string, results: ScenarioCheck[], durationMs: number): string {
  const cases = results.map((result) => {
    const open = `    <testcase classname="${xml(`check.${app}`)}" name="${xml(result.id)}" time="${(result.durationMs / 1000).toFixed(3)}"`;
    if (result.verdict === 'not_executable') {
      return `${open}>\n      <skipped message="not executable: no capsule"/>\n    </testcase>`;
    }
    const detail = [
      ...result.gateReasons,
      ...(result.goldenDiffs ? [`${result.goldenDiffs} difference(s) from ${result.golden}:`] : []),
      ...result.diffs.map((diff) => `  ${formatDiff(diff)}`),
    ].join('\n');
    if (result.verdict === 'block' || result.verdict === 'human_review') {
      const message =
        result.error?.message ??
        (result.goldenDiffs ? `${result.goldenDiffs} golden difference(s)` : `gate: ${result.verdict}`);
      return `${open}>\n      <failure message="${xml(`${result.verdict}: ${message}`)}">${xml(detail)}</failure>\n    </testcase>`;
    }
    return `${open}>\n      <system-out>${xml(`${result.verdict}\n${detail}`)}</system-out>\n    </testcase>`;
  });
  const executed = results.filter((result) => result.verdict !== 'not_executable');
  const failures = executed.filter(
    (result) => result.verdict === 'block' || result.verdict === 'human_review',
  ).length;
  const skipped = results.length - executed.length;
  const seconds = (durationMs / 1000).toFixed(3);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="replay-env check" tests="${results.length}" failures="${failures}" skipped="${skipped}" time="${seconds}">`,
    `  <testsuite name="${xml(`replay-env check ${app}`)}" tests="${results.length}" failures="${failures}" skipped="${skipped}" errors="0" time="${seconds}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
