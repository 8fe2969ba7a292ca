import { type Condition, parseCondition } from '../gate/condition.js';
import { holds } from '../gate/condition.js';
import type { Facts, FactSpec } from '../gate/facts.js';
import type { Scenario } from './scenarios-file.js';
import { ScenariosError } from './scenarios-file.js';

/**
 * A scenario's `expect:` as gate conditions. A list is gate syntax (`graph_related_users >= 1`); the
 * original tool's map form (`graph_related_users: '>= 1'`, `materialization_integrity: pass`) reads as
 * `<key> <value>` when the value starts with an operator, else `<key> = <value>`. Unknown facts are errors.
 */
export function parseExpectations(
  scenario: Scenario,
  catalog: ReadonlyMap<string, FactSpec>,
  shown: string,
): Condition[] {
  const texts = Array.isArray(scenario.expect)
    ? scenario.expect
    : Object.entries(scenario.expect ?? {}).map(([fact, value]) => {
        const text = String(value).trim();
        return /^(==|=|!=|>=|<=|>|<)/.test(text) ? `${fact} ${text}` : `${fact} = ${text}`;
      });
  const problems: string[] = [];
  const conditions: Condition[] = [];
  for (const text of texts) {
    const parsed = parseCondition(text, catalog);
    if ('problem' in parsed) problems.push(`"${text}": ${parsed.problem}`);
    else conditions.push(parsed.condition);
  }
  if (problems.length > 0) {
    throw new ScenariosError(`${shown}: scenario ${scenario.id}: expect ${problems[0]}`);
  }
  return conditions;
}

/** The expectations that do not hold, each as `expected <condition> (<fact> = <actual>)`. */
export function unmetExpectations(conditions: Condition[], facts: Facts): string[] {
  return conditions
    .filter((condition) => !holds(condition, facts))
    .map(
      (condition) =>
        `expected ${condition.text} (${condition.fact} = ${String(facts[condition.fact] ?? null)})`,
    );
}
