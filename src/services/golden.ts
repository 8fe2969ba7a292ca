import { basename, relative, resolve } from 'node:path';

import { UsageError } from '../errors.js';
import type { GoldenTrace } from '../generated/golden.js';
import { goldenFromTrace, readTrace } from '../golden/golden-file.js';
import { defaultNormaliseOptions } from '../golden/normalise.js';
import { recordGoldenInLoopState } from '../scenario/loop-files.js';
import { writeLoopFile } from '../scenario/loop-files.js';
import { goldenPathOf, loadScenarios, type Scenario } from '../scenario/scenarios-file.js';

export interface GoldenSaveOptions {
  /** The run trace to save (`run --trace-out`). */
  trace: string;
  /** The loop folder: the golden goes to <loop>/golden/<scenario>.json (or the scenario's `golden`). */
  loop: string;
  scenario: string;
  cwd?: string;
}

export interface GoldenSaveResult {
  scenario: string;
  app: string;
  /** Where the golden was written (relative to the working directory). */
  file: string;
  /** The trace it came from. */
  trace: string;
  /** Whether scenarios.yaml has this scenario (a golden without one is compared only with --golden). */
  scenarioKnown: boolean;
  probes: number;
  commands: number;
  tables: number;
  gate: string | null;
  warnings: string[];
  golden: GoldenTrace;
}

const idPattern = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * `golden save` (SPEC §10): normalises a run trace into the loop's golden file for a scenario (canonical
 * JSON) and records it in loop-state.yaml `golden_traces`. Headers and stdout kept follow the scenario.
 */
export async function saveGolden(options: GoldenSaveOptions): Promise<GoldenSaveResult> {
  const cwd = options.cwd ?? process.cwd();
  if (!idPattern.test(options.scenario)) {
    throw new UsageError(
      `--scenario ${JSON.stringify(options.scenario)}: use letters, digits, '.', '_' and '-', starting with a letter or digit`,
    );
  }
  const loopDir = resolve(cwd, options.loop);
  const tracePath = resolve(cwd, options.trace);
  const shownTrace = relative(cwd, tracePath) || tracePath;
  const trace = await readTrace(tracePath, shownTrace);
  const loaded = await loadScenarios(loopDir, cwd);
  const scenario: Scenario = loaded.scenarios.find((candidate) => candidate.id === options.scenario) ?? {
    id: options.scenario,
  };
  const goldenPath = goldenPathOf(scenario, loopDir);
  const { golden, text } = goldenFromTrace(
    trace,
    {
      headers: (scenario.headers ?? defaultNormaliseOptions.headers).map((name) => name.toLowerCase()),
      stdout: scenario.stdout ?? defaultNormaliseOptions.stdout,
    },
    { scenario: scenario.id, fromTrace: basename(tracePath) },
  );
  const warnings: string[] = [];
  const gate = golden.evidence.gate;
  if (gate === 'block' || gate === 'human_review') {
    warnings.push(`the trace's gate was ${gate}: later runs pass only if they end the same way`);
  }
  if (trace.interrupted) warnings.push(`the run was interrupted by ${trace.interrupted}`);
  await writeLoopFile(goldenPath, text);
  const shownGolden = relative(cwd, goldenPath) || goldenPath;
  await recordGoldenInLoopState(loopDir, relative(cwd, loopDir) || loopDir, {
    scenario: scenario.id,
    file: relative(loopDir, goldenPath),
    saved_at: golden.savedAt,
    trace: basename(tracePath),
  });
  return {
    scenario: scenario.id,
    app: golden.app,
    file: shownGolden,
    trace: shownTrace,
    scenarioKnown: loaded.scenarios.some((candidate) => candidate.id === scenario.id),
    probes: Object.keys(golden.evidence.probes).length,
    commands: Object.keys(golden.evidence.commands).length,
    tables: Object.keys(golden.evidence.materialized ?? {}).length,
    gate,
    warnings,
    golden,
  };
}
