import { join, relative, resolve } from 'node:path';

import { isCapsuleAccessRefusal } from '../capsule/index.js';
import { isReplayEnvError, type ReplayEnvError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { verdictExitCode, worstVerdict } from '../gate/evaluate.js';
import type { Verdict } from '../generated/trace.js';
import { GoldenError } from '../golden/golden-file.js';
import type { ParsedManifest } from '../manifest/index.js';
import { protectProcessEnvironment } from '../run/protect-process.js';
import { writeReport } from '../run/trace-file.js';
import { toCheckJunit } from '../scenario/check-junit.js';
import type { ScenarioCheck } from '../scenario/check-types.js';
import { recordRoundInLoopState } from '../scenario/loop-files.js';
import { isExecutable, loadScenarios, ScenariosError } from '../scenario/scenarios-file.js';
import { scrubSecrets } from '../secrets.js';
import { runReplay } from './run.js';

export interface CheckOptions {
  manifest: ParsedManifest;
  loop: string;
  dbUrl?: string;
  junitOut?: string;
  /** Write each scenario's trace to <dir>/<id>.json. */
  traceDir?: string;
  allowUnsafeTarget?: boolean;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  handleSignals?: boolean;
  onScenario?: (result: ScenarioCheck) => void;
}

export type { ScenarioCheck };

export interface CheckResult {
  app: string;
  loop: string;
  verdict: Verdict;
  exitCode: number;
  scenarios: ScenarioCheck[];
  junitPath: string | null;
  durationMs: number;
}

/**
 * Errors that belong to one scenario (its file entry, capsule, golden, or the database while it ran): the
 * scenario blocks and the others still run. Anything else (a bad flag, an unsafe target, an interrupt, a
 * bug) ends the check.
 */
function scenarioError(error: unknown): error is ReplayEnvError {
  // A capsule refused by its encryption or retention (no identity, expired) ends the check with exit 6:
  // the missing identity or the retention rule concerns the whole run, not one scenario's result.
  if (!isReplayEnvError(error) || isCapsuleAccessRefusal(error)) return false;
  return (
    error instanceof ScenariosError ||
    error instanceof GoldenError ||
    error.exitCode === ExitCode.integrity ||
    error.exitCode === ExitCode.database
  );
}

/**
 * `check` (SPEC §10, the CI gate step): runs every executable scenario of the loop in file order — each
 * materializes its capsule, runs, is compared with its golden and its `expect` — and gives one verdict, the
 * worst. A scenario that cannot run (capsule changed, database error) is `block` with the reason.
 */
export async function checkLoop(options: CheckOptions): Promise<CheckResult> {
  const started = performance.now();
  const cwd = options.cwd ?? process.cwd();
  const loopDir = resolve(cwd, options.loop);
  // Protected once for every scenario's run (protect-process.ts): each run gets the same copy.
  const env = options.env ?? protectProcessEnvironment(options.manifest);
  const loaded = await loadScenarios(loopDir, cwd);
  if (!loaded.scenarios.some(isExecutable)) {
    throw new ScenariosError(
      `${loaded.shown}: no executable scenario (one with a capsule)${loaded.exists ? '' : ': file not found'}`,
      'add one with `replay-env scenario add --loop DIR --id ID --capsule FILE --from-trace TRACE`',
    );
  }
  const results: ScenarioCheck[] = [];
  for (const scenario of loaded.scenarios) {
    const base = { id: scenario.id, summary: scenario.summary ?? null };
    if (!isExecutable(scenario)) {
      results.push({
        ...base,
        verdict: 'not_executable',
        goldenDiffs: null,
        diffs: [],
        golden: null,
        gateReasons: ['no capsule: a description only'],
        error: null,
        durationMs: 0,
        trace: null,
      });
      continue;
    }
    const scenarioStarted = performance.now();
    const traceOut = options.traceDir
      ? join(resolve(cwd, options.traceDir), `${scenario.id}.json`)
      : undefined;
    let result: ScenarioCheck;
    try {
      const run = await runReplay({
        manifest: options.manifest,
        dbUrl: options.dbUrl,
        loop: loopDir,
        scenario: scenario.id,
        traceOut,
        allowUnsafeTarget: options.allowUnsafeTarget,
        cwd,
        env,
        handleSignals: options.handleSignals,
      });
      const golden = run.trace.golden;
      result = {
        ...base,
        verdict: run.gate,
        goldenDiffs: golden ? golden.count : null,
        diffs: golden ? golden.diffs : [],
        golden: golden ? golden.file : null,
        gateReasons: run.gateReasons,
        error: null,
        durationMs: 0,
        trace: run.tracePath ? relative(cwd, run.tracePath) : null,
      };
    } catch (error) {
      if (!scenarioError(error)) throw error;
      result = {
        ...base,
        verdict: 'block',
        goldenDiffs: null,
        diffs: [],
        golden: null,
        gateReasons: [`block: ${scrubSecrets(error.message)}`],
        error: { code: error.code, message: scrubSecrets(error.message) },
        durationMs: 0,
        trace: null,
      };
    }
    result.durationMs = Math.round(performance.now() - scenarioStarted);
    results.push(result);
    options.onScenario?.(result);
  }
  const verdict = worstVerdict(
    results.flatMap((result) => (result.verdict === 'not_executable' ? [] : [result.verdict])),
  );
  const durationMs = Math.round(performance.now() - started);
  const junitPath = options.junitOut ? resolve(cwd, options.junitOut) : null;
  if (junitPath) await writeReport(junitPath, toCheckJunit(options.manifest.appId, results, durationMs));
  await recordRoundInLoopState(loopDir, relative(cwd, loopDir) || loopDir, {
    at: new Date().toISOString(),
    command: 'check',
    gate: verdict,
    scenarios: Object.fromEntries(results.map((result) => [result.id, result.verdict])),
    junit: junitPath ? relative(loopDir, junitPath) : null,
  });
  return {
    app: options.manifest.appId,
    loop: relative(cwd, loopDir) || loopDir,
    verdict,
    exitCode: verdictExitCode[verdict],
    scenarios: results,
    junitPath,
    durationMs,
  };
}
