import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

import { UsageError } from '../errors.js';
import { fileSha256 } from '../file-sha256.js';
import type { Scenario } from '../generated/scenarios.js';
import { readTrace } from '../golden/golden-file.js';
import { readLoopYaml, writeLoopFile } from '../scenario/loop-files.js';
import { loadScenarios, scenariosFileName } from '../scenario/scenarios-file.js';
import { validateAgainstSchema } from '../validation.js';
import { type GoldenSaveResult, saveGolden } from './golden.js';

export interface ScenarioAddOptions {
  loop: string;
  id: string;
  capsule: string;
  sessions?: string[];
  summary?: string;
  useLocalSubject?: boolean;
  /** Save this run trace as the scenario's golden. */
  fromTrace?: string;
  cwd?: string;
}

export interface ScenarioAddResult {
  scenario: Scenario;
  /** scenarios.yaml (relative to the working directory). */
  file: string;
  golden: GoldenSaveResult | null;
}

/**
 * `scenario add` (SPEC §10): appends an executable scenario to <loop>/scenarios.yaml — the capsule with
 * its sha256 pinned, sessions, summary — keeping the file's comments, and saves its golden from a trace.
 */
export async function addScenario(options: ScenarioAddOptions): Promise<ScenarioAddResult> {
  const cwd = options.cwd ?? process.cwd();
  const loopDir = resolve(cwd, options.loop);
  const loaded = await loadScenarios(loopDir, cwd);
  if (loaded.scenarios.some((scenario) => scenario.id === options.id)) {
    throw new UsageError(
      `${loaded.shown}: scenario "${options.id}" already exists`,
      'pick another --id, or edit scenarios.yaml',
    );
  }
  const capsulePath = resolve(cwd, options.capsule);
  if (!existsSync(capsulePath)) throw new UsageError(`--capsule ${options.capsule}: file not found`);
  const sessions = (options.sessions ?? []).map((session) => {
    const path = resolve(cwd, session);
    if (!existsSync(path)) throw new UsageError(`--session ${session}: file not found`);
    return relative(loopDir, path);
  });
  const scenario: Scenario = {
    id: options.id,
    ...(options.summary ? { summary: options.summary } : {}),
    capsule: relative(loopDir, capsulePath),
    capsule_sha256: await fileSha256(capsulePath),
    ...(options.useLocalSubject ? { use_local_subject: true } : {}),
    ...(sessions.length > 0 ? { sessions } : {}),
  };
  const problems = validateAgainstSchema('scenarios', { scenarios: [scenario] });
  if (problems.length > 0) throw new UsageError(`scenario: ${problems[0]!.replace(/^\/scenarios\/0/, '')}`);
  // A bad trace is found before scenarios.yaml changes: nothing is half-added.
  if (options.fromTrace) await readTrace(resolve(cwd, options.fromTrace), options.fromTrace);
  const document = await readLoopYaml(loaded.file, loaded.shown, 'scenarios: []\n');
  if (!document.has('scenarios') || document.get('scenarios') === null) {
    document.set('scenarios', document.createNode([]));
  }
  document.addIn(['scenarios'], document.createNode(scenario));
  await writeLoopFile(loaded.file, document.toString({ lineWidth: 0 }));
  const golden = options.fromTrace
    ? await saveGolden({ trace: options.fromTrace, loop: loopDir, scenario: options.id, cwd })
    : null;
  return { scenario, file: relative(cwd, join(loopDir, scenariosFileName)) || loaded.file, golden };
}
