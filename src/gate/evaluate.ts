import { ExitCode } from '../exit-codes.js';
import type { Verdict } from '../generated/trace.js';
import { type Condition, holds } from './condition.js';
import type { Facts } from './facts.js';
import type { ParsedGatePolicy } from './policy.js';

export interface GateEvaluation {
  gate: Verdict;
  /** Conditions that fired, each as `<level>: <condition> (<fact> = <actual>)`, strongest level first. */
  gateReasons: string[];
  /** Every ship_to_staging_if condition held (false when the list is empty). */
  shipToStaging: boolean;
}

/** A verdict's process exit status (run, check): 0 continue/warn, 10 human_review, 11 block. */
export const verdictExitCode: Record<Verdict, number> = {
  continue: ExitCode.ok,
  warn: ExitCode.ok,
  human_review: ExitCode.humanReview,
  block: ExitCode.block,
};

const severity: Record<Verdict, number> = { continue: 0, warn: 1, human_review: 2, block: 3 };

/** The worst of several verdicts (block > human_review > warn > continue); `continue` when there are none. */
export function worstVerdict(verdicts: Iterable<Verdict>): Verdict {
  let worst: Verdict = 'continue';
  for (const verdict of verdicts) if (severity[verdict] > severity[worst]) worst = verdict;
  return worst;
}

const levels = [
  ['block', 'block_if'],
  ['human_review', 'human_review_if'],
  ['warn', 'warn_if'],
] as const;

/**
 * Evaluates a policy over the run's facts. Precedence block > human_review > warn > continue; reasons list
 * every condition that fired at any level, so a reader sees the warnings behind a block too.
 * `forcedBlock` reasons (interruption, failed materialization) block whatever the policy says.
 */
export function evaluateGate(
  policy: ParsedGatePolicy,
  facts: Facts,
  forcedBlock: string[] = [],
): GateEvaluation {
  const gateReasons = forcedBlock.map((reason) => `block: ${reason}`);
  let gate: Verdict = forcedBlock.length > 0 ? 'block' : 'continue';
  for (const [level, list] of levels) {
    const fired = policy.lists[list].filter((condition) => holds(condition, facts));
    if (fired.length === 0) continue;
    if (gate === 'continue') gate = level;
    gateReasons.push(...fired.map((condition) => `${level}: ${describe(condition, facts)}`));
  }
  const ship = policy.lists.ship_to_staging_if;
  const shipToStaging = ship.length > 0 && ship.every((condition) => holds(condition, facts));
  if (shipToStaging) gateReasons.push('ship_to_staging: true');
  return { gate, gateReasons, shipToStaging };
}

function describe(condition: Condition, facts: Facts): string {
  if (condition.op === '=') return condition.text;
  return `${condition.text} (${condition.fact} = ${String(facts[condition.fact] ?? null)})`;
}
