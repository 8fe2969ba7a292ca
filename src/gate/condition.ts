import type { Facts, FactSpec, FactValue } from './facts.js';

export const operators = ['=', '!=', '>', '>=', '<', '<='] as const;
export type Operator = (typeof operators)[number];

/** A gate condition, parsed and type-checked against the fact it names. */
export interface Condition {
  /** The condition as written in the policy. */
  text: string;
  fact: string;
  op: Operator;
  /** The expected value, typed like the fact (`null` = "unknown in this run"). */
  value: FactValue;
}

const syntax = /^\s*([A-Za-z_][A-Za-z0-9_.:-]*)\s*(==|=|!=|>=|<=|>|<)\s*(.*?)\s*$/;

/**
 * Parses `<fact> <op> <value>` and checks it against the fact catalog. Returns the condition, or a
 * problem (one line) naming what is wrong: unknown fact, a value of the wrong type, an ordering operator
 * on a non-number. Unknown facts are errors on purpose: a typo must not silently never fire.
 */
export function parseCondition(
  text: string,
  catalog: ReadonlyMap<string, FactSpec>,
): { condition: Condition } | { problem: string } {
  const match = syntax.exec(text);
  if (!match || match[3] === '') {
    return { problem: 'expected `<fact> <op> <value>` with op one of = != > >= < <=' };
  }
  const fact = match[1]!;
  const op = (match[2] === '==' ? '=' : match[2]) as Operator;
  const spec = catalog.get(fact);
  if (!spec) {
    return { problem: `unknown fact "${fact}" (known facts: ${knownFacts(catalog)})` };
  }
  const raw = unquote(match[3]!);
  if (raw === 'null') {
    if (op !== '=' && op !== '!=') return { problem: `"${op}" cannot compare with null` };
    return { condition: { text: text.trim(), fact, op, value: null } };
  }
  const ordering = op !== '=' && op !== '!=';
  switch (spec.type) {
    case 'number': {
      const value = Number(raw);
      if (raw === '' || !Number.isFinite(value)) {
        return { problem: `fact "${fact}" is a number; "${raw}" is not` };
      }
      return { condition: { text: text.trim(), fact, op, value } };
    }
    case 'boolean':
      if (ordering) return { problem: `fact "${fact}" is true/false; use = or !=` };
      if (raw !== 'true' && raw !== 'false') {
        return { problem: `fact "${fact}" is true/false; "${raw}" is neither` };
      }
      return { condition: { text: text.trim(), fact, op, value: raw === 'true' } };
    case 'enum':
      if (ordering) return { problem: `fact "${fact}" is one of ${spec.values.join(', ')}; use = or !=` };
      if (!spec.values.includes(raw)) {
        return { problem: `fact "${fact}" is one of ${spec.values.join(', ')}; "${raw}" is not` };
      }
      return { condition: { text: text.trim(), fact, op, value: raw } };
  }
}

/** Whether the condition holds for these facts. A fact that is null (unknown) only matches `= null`. */
export function holds(condition: Condition, facts: Facts): boolean {
  const actual = facts[condition.fact] ?? null;
  const expected = condition.value;
  if (actual === null || expected === null) {
    return condition.op === '=' ? actual === expected : condition.op === '!=' && actual !== expected;
  }
  switch (condition.op) {
    case '=':
      return actual === expected;
    case '!=':
      return actual !== expected;
    case '>':
      return actual > expected;
    case '>=':
      return actual >= expected;
    case '<':
      return actual < expected;
    case '<=':
      return actual <= expected;
  }
}

function unquote(raw: string): string {
  const quoted = /^(['"])(.*)\1$/.exec(raw);
  return quoted ? quoted[2]! : raw;
}

function knownFacts(catalog: ReadonlyMap<string, FactSpec>): string {
  const names = [...catalog.keys()];
  const base = names.filter((name) => !name.includes('.'));
  const perStep = names.some((name) => name.includes('.')) ? ', probe.<name>, command.<name>' : '';
  return `${base.join(', ')}${perStep}`;
}
