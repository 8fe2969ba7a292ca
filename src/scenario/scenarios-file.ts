import { readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';

import { ReplayEnvError } from '../errors.js';
import type { Scenario, ScenariosFile } from '../generated/scenarios.js';
import { parseYaml } from '../parse-yaml.js';
import { isInsideFolder } from '../path-inside.js';
import { validateAgainstSchema } from '../validation.js';

export type { Scenario };

/** scenarios.yaml is missing, not YAML, or not valid (every problem listed). */
export class ScenariosError extends ReplayEnvError {
  constructor(message: string, hint?: string) {
    super('scenarios_invalid', message, { hint });
  }
}

export interface LoadedScenarios {
  /** Absolute path of scenarios.yaml. */
  file: string;
  /** Name shown in messages. */
  shown: string;
  scenarios: Scenario[];
  /** False when the file does not exist (an empty list). */
  exists: boolean;
}

export const scenariosFileName = 'scenarios.yaml';

/**
 * Reads `<loop>/scenarios.yaml`. The original tool's prose entries (id, summary, subject_shape, an
 * `expect:` map) load unchanged; they are executable only once they name a `capsule`.
 */
export async function loadScenarios(loopDir: string, cwd = process.cwd()): Promise<LoadedScenarios> {
  const file = join(loopDir, scenariosFileName);
  const shown = relative(cwd, file) || file;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return { file, shown, scenarios: [], exists: false };
    throw new ScenariosError(`${shown}: cannot be read`);
  }
  const parsed = parseYaml(text);
  if ('problem' in parsed) throw new ScenariosError(`${shown}: ${parsed.problem}`);
  const data = parsed.data ?? { scenarios: [] };
  const problems = validateAgainstSchema('scenarios', data);
  if (problems.length > 0) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    throw new ScenariosError(`${shown}: ${problems[0]}${more}`);
  }
  const scenarios = (data as ScenariosFile).scenarios;
  const seen = new Set<string>();
  for (const scenario of scenarios) {
    if (seen.has(scenario.id))
      throw new ScenariosError(`${shown}: scenario id "${scenario.id}" appears twice`);
    seen.add(scenario.id);
  }
  return { file, shown, scenarios, exists: true };
}

/** The scenario with this id, or a one-line error listing the ids there are. */
export function findScenario(loaded: LoadedScenarios, id: string): Scenario {
  const scenario = loaded.scenarios.find((candidate) => candidate.id === id);
  if (scenario) return scenario;
  const known = loaded.scenarios.map((candidate) => candidate.id);
  throw new ScenariosError(
    `${loaded.shown}: no scenario "${id}"${known.length > 0 ? ` (scenarios: ${known.join(', ')})` : ''}`,
    'add one with `replay-env scenario add --loop DIR --id ID --capsule FILE`',
  );
}

/** A scenario runs only when it names a capsule; prose-only entries are listed as not executable. */
export function isExecutable(scenario: Scenario): boolean {
  return scenario.capsule !== undefined;
}

/**
 * Where a scenario's golden trace lives: its `golden`, else golden/<id>.json, under the loop folder.
 * `golden save` writes there, so a `golden:` outside the loop folder (absolute, `..`) or naming the loop's
 * own YAML files is refused: a shared scenarios.yaml must not be able to overwrite any file.
 */
export function goldenPathOf(scenario: Scenario, loopDir: string): string {
  const path = resolve(loopDir, scenario.golden ?? join('golden', `${scenario.id}.json`));
  const inside = relative(resolve(loopDir), path);
  const ownFiles = [scenariosFileName, 'loop-state.yaml'];
  if (inside === '' || !isInsideFolder(loopDir, path) || ownFiles.includes(inside)) {
    throw new ScenariosError(
      `scenario ${scenario.id}: golden ${JSON.stringify(scenario.golden)} is not a file inside the loop folder`,
      'use a path under the loop folder, e.g. golden/<id>.json',
    );
  }
  return path;
}
