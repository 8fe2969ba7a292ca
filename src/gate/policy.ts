import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';

import type { GatePolicy } from '../generated/gate-policy.js';
import { parseYaml } from '../parse-yaml.js';
import { validateAgainstSchema } from '../validation.js';
import { type Condition, parseCondition } from './condition.js';
import { GatePolicyError } from './errors.js';
import type { FactSpec } from './facts.js';

export const policyLists = ['block_if', 'human_review_if', 'warn_if', 'ship_to_staging_if'] as const;
export type PolicyList = (typeof policyLists)[number];

/** A gate policy with every condition parsed and type-checked against the run's fact catalog. */
export interface ParsedGatePolicy {
  /** Absolute path of gate.yaml. */
  file: string;
  lists: Record<PolicyList, Condition[]>;
}

/**
 * Reads `gate.yaml`, validates it (schemas/gate-policy.schema.json) and parses every condition against
 * `catalog`. All problems are reported at once, each as `file: list[i] "condition": problem`.
 */
export async function loadGatePolicy(
  file: string,
  catalog: ReadonlyMap<string, FactSpec>,
  options: { cwd?: string } = {},
): Promise<ParsedGatePolicy> {
  const shown = relative(options.cwd ?? process.cwd(), file) || file;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : 'cannot be read';
    throw new GatePolicyError(`${shown}: ${reason}`, undefined, 'pass --loop DIR with a gate.yaml in it');
  }
  return parseGatePolicy(text, { file, shown, catalog });
}

/** Parses policy text; `shown` is the file name used in messages. */
export function parseGatePolicy(
  text: string,
  where: { file: string; shown: string; catalog: ReadonlyMap<string, FactSpec> },
): ParsedGatePolicy {
  const parsed = parseYaml(text);
  if ('problem' in parsed) throw policyError(where.shown, [parsed.problem]);
  const data = parsed.data ?? {};
  const schemaProblems = validateAgainstSchema('gate-policy', data);
  if (schemaProblems.length > 0) throw policyError(where.shown, schemaProblems);
  const policy = data as GatePolicy;
  const problems: string[] = [];
  const lists = {} as Record<PolicyList, Condition[]>;
  for (const list of policyLists) {
    lists[list] = [];
    (policy[list] ?? []).forEach((text, index) => {
      const parsed = parseCondition(text, where.catalog);
      if ('problem' in parsed) problems.push(`${list}[${index}] "${text.trim()}": ${parsed.problem}`);
      else lists[list].push(parsed.condition);
    });
  }
  if (problems.length > 0) throw policyError(where.shown, problems);
  return { file: where.file, lists };
}

function policyError(shown: string, problems: string[]): GatePolicyError {
  const lines = problems.map((problem) => `${shown}: ${problem}`);
  const more = lines.length > 1 ? ` (and ${lines.length - 1} more)` : '';
  return new GatePolicyError(`${lines[0]}${more}`, lines, 'see docs/run.md#gate-policy for the facts');
}
