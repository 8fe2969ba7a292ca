import { existsSync } from 'node:fs';
import { basename, extname, relative, resolve } from 'node:path';

import { CapsuleError } from '../errors.js';
import { fileSha256 } from '../file-sha256.js';
import type { Condition } from '../gate/condition.js';
import { factCatalog } from '../gate/facts.js';
import type { Probe } from '../generated/manifest.js';
import type { GoldenInput } from '../golden/compare.js';
import { readGolden } from '../golden/golden-file.js';
import { compileIgnore } from '../golden/ignore.js';
import { defaultProbe } from '../manifest/apply-defaults.js';
import { checkProbes } from '../manifest/check-manifest.js';
import type { ParsedManifest } from '../manifest/index.js';
import { validateAgainstSchema } from '../validation.js';
import { parseExpectations } from './expect.js';
import {
  findScenario,
  goldenPathOf,
  loadScenarios,
  type Scenario,
  ScenariosError,
} from './scenarios-file.js';

export interface ScenarioRunInput {
  manifest: ParsedManifest;
  loopDir: string;
  cwd: string;
  /** `--scenario ID`. */
  scenario?: string;
  /** `--golden FILE`: compare with this golden (relative to cwd), with the scenario's ignore rules if any. */
  golden?: string;
  /** `--capsule`: overrides the scenario's capsule (its pinned sha256 is then not checked). */
  capsule?: string;
}

/** What a scenario changes in a run; with neither `--scenario` nor `--golden`, the run as it was. */
export interface ScenarioRunSetup {
  manifest: ParsedManifest;
  capsule: string | undefined;
  useLocalSubject: boolean | undefined;
  rewriteSubject: Record<string, string> | undefined;
  golden: GoldenInput | undefined;
  expectations: Condition[];
  scenario: Scenario | undefined;
}

/**
 * Applies `--scenario` / `--golden` to a run: the scenario's capsule (its sha256 checked against the pin),
 * subject options, extra probes and sessions, expectations, ignore rules, and the golden to compare with.
 * Everything is checked here, before anything runs.
 */
export async function prepareScenarioRun(input: ScenarioRunInput): Promise<ScenarioRunSetup> {
  const { cwd, loopDir } = input;
  const none: ScenarioRunSetup = {
    manifest: input.manifest,
    capsule: input.capsule,
    useLocalSubject: undefined,
    rewriteSubject: undefined,
    golden: undefined,
    expectations: [],
    scenario: undefined,
  };
  const loaded = input.scenario ? await loadScenarios(loopDir, cwd) : undefined;
  const scenario = loaded && input.scenario ? findScenario(loaded, input.scenario) : undefined;
  const label = scenario ? `scenario ${scenario.id}` : 'golden';
  const ignore = compileIgnore(scenario?.ignore, label);
  let golden: GoldenInput | undefined;
  const goldenPath = input.golden
    ? resolve(cwd, input.golden)
    : scenario && (scenario.golden !== undefined || existsSync(goldenPathOf(scenario, loopDir)))
      ? goldenPathOf(scenario, loopDir)
      : undefined;
  if (goldenPath) {
    const shown = relative(cwd, goldenPath) || goldenPath;
    golden = {
      golden: await readGolden(goldenPath, shown),
      file: shown,
      ...(scenario ? { scenario: scenario.id } : {}),
      ignore,
    };
  }
  if (!scenario || !loaded) return { ...none, golden };
  const manifest = withScenarioProbes(input.manifest, scenario, loopDir, loaded.shown);
  const catalog = factCatalog({
    commands: manifest.commands.map((command) => command.name),
    probes: manifest.probes.map((probe) => probe.name),
  });
  return {
    manifest,
    capsule: input.capsule ?? (await scenarioCapsule(scenario, loopDir, cwd)),
    useLocalSubject: scenario.use_local_subject,
    rewriteSubject: scenario.rewrite_subject,
    golden,
    expectations: parseExpectations(scenario, catalog, loaded.shown),
    scenario,
  };
}

/** The scenario's capsule, after checking it exists and matches its pinned sha256. */
async function scenarioCapsule(
  scenario: Scenario,
  loopDir: string,
  cwd: string,
): Promise<string | undefined> {
  if (scenario.capsule === undefined) return undefined;
  const path = resolve(loopDir, scenario.capsule);
  const shown = relative(cwd, path) || path;
  if (!existsSync(path)) {
    throw new CapsuleError(`scenario ${scenario.id}: capsule ${shown}: file not found`, {
      code: 'scenario_capsule_missing',
    });
  }
  if (scenario.capsule_sha256) {
    const actual = await fileSha256(path);
    if (actual !== scenario.capsule_sha256) {
      throw new CapsuleError(
        `scenario ${scenario.id}: capsule ${shown} has sha256 ${actual}, but scenarios.yaml pins ${scenario.capsule_sha256}`,
        {
          code: 'scenario_capsule_changed',
          hint: 'the capsule is not the one the golden was saved from: restore it, or add the scenario again with the new capsule and a new golden',
        },
      );
    }
  }
  return path;
}

/** The manifest with the scenario's probes (same name replaces) and one session probe per session. */
function withScenarioProbes(
  manifest: ParsedManifest,
  scenario: Scenario,
  loopDir: string,
  shown: string,
): ParsedManifest {
  const sessionProbes: Probe[] = (scenario.sessions ?? []).map((session) => ({
    name: `session-${basename(session, extname(session))}`,
    kind: 'session',
    session: resolve(loopDir, session),
  }));
  const added = [...(scenario.probes ?? []), ...sessionProbes] as unknown as Probe[];
  if (added.length === 0) return manifest;
  const schemaProblems = validateAgainstSchema('manifest', { ...manifest.raw, probes: added });
  // The manifest's own probes went through check-manifest when it loaded; these skip that load.
  const problems = schemaProblems.length > 0 ? schemaProblems : checkProbes(added);
  if (problems.length > 0) {
    throw new ScenariosError(
      `${shown}: scenario ${scenario.id}: ${problems[0]!.replace(/^\/probes/, 'probes')}`,
    );
  }
  const parsed = added.map((probe) =>
    defaultProbe(
      probe.kind === 'session' && probe.session
        ? { ...probe, session: resolve(loopDir, probe.session) }
        : probe,
    ),
  );
  const names = new Set(parsed.map((probe) => probe.name));
  return { ...manifest, probes: [...manifest.probes.filter((probe) => !names.has(probe.name)), ...parsed] };
}
