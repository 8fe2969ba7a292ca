import { join, relative, resolve } from 'node:path';

import { isCapsuleAccessRefusal } from '../capsule/index.js';
import { lossyList } from '../capsule/lossy-values.js';
import { type EgressGuard, type GuardUpstream, startEgressGuard } from '../egress/guard.js';
import type { EgressRecording } from '../egress/recorder.js';
import { isReplayEnvError, ReplayEnvError, UnsafeTargetError, UsageError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { evaluateGate, verdictExitCode } from '../gate/evaluate.js';
import { factCatalog } from '../gate/facts.js';
import { loadJudgesConfig } from '../gate/judges/config.js';
import type { MaterializationEvidence } from '../gate/judges/types.js';
import { loadGatePolicy } from '../gate/policy.js';
import { runJudges } from '../gate/run-judges.js';
import type { Event, MaterializeEvent, RunTrace, Verdict } from '../generated/trace.js';
import { compareWithGolden } from '../golden/compare.js';
import type { ParsedManifest } from '../manifest/index.js';
import { DatabaseUrl } from '../postgres/database-url.js';
import { checkTargetBeforeConnect, resolveDatabaseUrl } from '../postgres/target.js';
import type { RunningBackground } from '../run/background.js';
import { assertNamedBrowser } from '../run/browser-session.js';
import { type CapsuleExamination, examineCapsule } from '../run/capsule-evidence.js';
import { computeFacts } from '../run/facts.js';
import { handleInterrupts, type InterruptSignal, RunInterruptedError } from '../run/interrupt.js';
import { toJunit } from '../run/junit.js';
import { resolveLoopDir } from '../run/loop.js';
import { protectProcessEnvironment } from '../run/protect-process.js';
import { runSteps, type StepNotice } from '../run/run-steps.js';
import { writeReport } from '../run/trace-file.js';
import { unmetExpectations } from '../scenario/expect.js';
import { prepareScenarioRun } from '../scenario/prepare.js';
import { scrubSecrets } from '../secrets.js';
import { toolInfo } from '../tool-info.js';
import { materialize, type MaterializeResult } from './materialize.js';

export interface RunOptions {
  manifest: ParsedManifest;
  /** Capsule file; required unless `skipMaterialize`. */
  capsule?: string;
  /** `--db-url`; default: the manifest's replay env var, then its localDatabaseUrl. */
  dbUrl?: string;
  skipMaterialize?: boolean;
  useLocalSubject?: boolean;
  rewriteSubject?: Record<string, string>;
  loadStrategy?: 'copy' | 'jsonb';
  chunkSize?: number;
  allowUnsafeTarget?: boolean;
  traceOut?: string;
  junitOut?: string;
  /** `--loop`: the folder with gate.yaml and judges.yaml. */
  loop?: string;
  /** `--scenario ID`: run the loop's scenario (capsule, probes, expectations) and compare with its golden. */
  scenario?: string;
  /** `--golden FILE`: compare the run with this golden trace. */
  golden?: string;
  cwd?: string;
  /** Parent environment for children (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Install SIGINT/SIGTERM handlers that stop process trees and end with 130/143 (the CLI does). */
  handleSignals?: boolean;
  signal?: AbortSignal;
  /** SIGTERM → SIGKILL grace period when stopping process trees (default 5 s). */
  killGraceMs?: number;
  onProgress?: (notice: RunProgress) => void;
  /** Tests only (no flag or manifest field sets it): where the egress guard forwards what it lets out. */
  egressUpstream?: GuardUpstream;
}

export type RunProgress = StepNotice | { kind: 'start'; step: 'materialize'; name: string };

export interface RunResult {
  app: string;
  gate: Verdict;
  gateReasons: string[];
  shipToStaging: boolean;
  /** 0 for continue/warn, 10 human_review, 11 block. */
  exitCode: number;
  tracePath: string | null;
  junitPath: string | null;
  /** Phase timings in ms (shown with --profile). */
  phases: Record<string, number>;
  /** `egress.mode: record`: the stubs file written. */
  egressRecording?: EgressRecording;
  trace: RunTrace;
}

/**
 * `run` (SPEC §6): materialize the capsule (unless skipped), run the manifest's commands and probes with
 * the production URL blocked, stop every process tree, judge the evidence, evaluate the loop's gate
 * policy and write the trace (also when a step failed or the run was interrupted).
 */
export async function runReplay(input: RunOptions): Promise<RunResult> {
  const cwd = input.cwd ?? process.cwd();
  // Everything that can be wrong with the invocation is found before anything runs.
  const loopDir = resolveLoopDir({ flag: input.loop, manifestLoop: input.manifest.loop, cwd });
  const scenario = await prepareScenarioRun({ ...input, loopDir, cwd });
  const options: RunOptions = {
    ...input,
    manifest: scenario.manifest,
    capsule: scenario.capsule,
    useLocalSubject: input.useLocalSubject ?? scenario.useLocalSubject,
    rewriteSubject: input.rewriteSubject ?? scenario.rewriteSubject,
  };
  const { manifest } = options;
  // Without an env, children's come from this process: it is protected before any child starts
  // (protect-process.ts), and the variables are read from a copy taken just before.
  const parentEnv = options.env ?? protectProcessEnvironment(manifest);
  const startedAt = new Date().toISOString();
  const phases: Record<string, number> = {};
  const timed = async <T>(phase: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await work();
    } finally {
      phases[phase] = Math.round(performance.now() - started);
    }
  };

  const catalog = factCatalog({
    commands: manifest.commands.map((command) => command.name),
    probes: manifest.probes.map((probe) => probe.name),
  });
  const policy = await loadGatePolicy(join(loopDir, 'gate.yaml'), catalog, { cwd });
  const judgesConfig = await loadJudgesConfig(join(loopDir, 'judges.yaml'), { cwd });
  if (!options.skipMaterialize && !options.capsule) {
    throw new UsageError(
      '--capsule is required',
      'pass --capsule FILE, or --skip-materialize to use the replay database as it is',
    );
  }
  const databaseUrl = optionalReplayUrl(options, parentEnv);
  if (databaseUrl) {
    const prod = parentEnv[manifest.postgres.prodDatabaseUrlEnv];
    // Parsing registers the production password with the scrubber: a child echoing it is masked too.
    if (prod) tryParse(prod, manifest.postgres.prodDatabaseUrlEnv);
    checkTargetBeforeConnect(databaseUrl, {
      prodEnvVar: manifest.postgres.prodDatabaseUrlEnv,
      env: parentEnv,
      allowUnsafeTarget: options.allowUnsafeTarget,
    });
  }
  assertNamedBrowser(manifest, parentEnv);
  const capsulePath = options.capsule ? resolve(cwd, options.capsule) : undefined;

  const controller = new AbortController();
  const forward = (): void => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', forward, { once: true });
  const removeHandlers = options.handleSignals ? handleInterrupts(controller) : () => {};
  const notify = options.onProgress ?? (() => {});
  const events: Event[] = [];
  const backgrounds: RunningBackground[] = [];
  let examination: CapsuleExamination | undefined;
  let guard: EgressGuard | undefined;
  let materialization: MaterializationEvidence = {
    status: 'skipped',
    reason: 'not materialized in this run (--skip-materialize)',
  };
  let runError: ReplayEnvError | undefined;
  const graceMs = options.killGraceMs ?? 5000;
  try {
    if (capsulePath) {
      examination = await timed('capsule', () =>
        examineCapsule({
          path: capsulePath,
          subjectKeys: manifest.subjectKeys,
          scanCredentials: judgesConfig.enabled.has('credentials_in_safe_export'),
          scanOptions: { ...judgesConfig.credentials, hashPrefixes: hashPrefixes(manifest) },
        }),
      );
    }
    if (!options.skipMaterialize && capsulePath && databaseUrl && !controller.signal.aborted) {
      notify({ kind: 'start', step: 'materialize', name: 'materialize' });
      const { event, evidence } = await timed('materialize', () =>
        materializeStep(options, capsulePath, databaseUrl, examination, parentEnv, controller.signal),
      );
      materialization = evidence;
      events.push(event);
      notify({ kind: 'end', event });
    }
    if (!controller.signal.aborted)
      guard = await timed('egress', () => startEgressGuard(manifest, options.egressUpstream));
    const activeGuard = guard;
    await timed('steps', async () => {
      if (!activeGuard) return;
      await runSteps({
        manifest,
        guard: activeGuard,
        context: {
          manifest,
          databaseUrl,
          graceMs,
          signal: controller.signal,
          parentEnv,
          ...(options.traceOut ? { tracePath: resolve(cwd, options.traceOut) } : {}),
          cwd,
        },
        events,
        backgrounds,
        skipReason: () =>
          controller.signal.aborted
            ? `interrupted by ${String(controller.signal.reason ?? 'signal')}`
            : materialization.status === 'failed'
              ? 'materialization failed'
              : undefined,
        notify,
      });
    });
  } catch (error) {
    runError = isReplayEnvError(error)
      ? error
      : new ReplayEnvError('internal', `internal error: ${(error as Error).message}`, {
          exitCode: ExitCode.internal,
        });
  } finally {
    await timed('stop', () => Promise.all(backgrounds.map((running) => running.stop(graceMs))));
    // Stopped after the background commands: they stay guarded until they are gone.
    if (guard) {
      // A recording that cannot be written fails the run, after the trace keeps what happened.
      await guard.stop().catch((error: unknown) => {
        runError ??= isReplayEnvError(error) ? error : undefined;
        if (!runError) throw error;
      });
      events.push(...guard.events);
    }
    options.signal?.removeEventListener('abort', forward);
  }

  const interrupted = interruptSignal(controller.signal);
  const judges = runJudges(judgesConfig, {
    capsule: examination?.evidence,
    scan: examination?.scan,
    materialization,
    events,
  });
  const facts = computeFacts({
    commands: manifest.commands.map((command) => command.name),
    probes: manifest.probes.map((probe) => probe.name),
    events,
    judges,
    capsule: examination?.evidence,
    scan: examination?.scan,
    materialization,
    interrupted: interrupted !== undefined,
    egressGuarded: guard !== undefined,
  });
  const forced = [
    ...(interrupted ? [`interrupted by ${interrupted}`] : []),
    ...(materialization.status === 'failed' ? ['materialization failed'] : []),
    ...(runError ? [`run failed: ${runError.message}`] : []),
  ];
  let { gate, gateReasons, shipToStaging } = evaluateGate(policy, facts, forced);
  const evidence = examination?.evidence;
  const trace: RunTrace = {
    schemaVersion: 1,
    kind: 'replay-env-run-trace',
    app: manifest.appId,
    startedAt,
    finishedAt: new Date().toISOString(),
    tool: await toolInfo(),
    manifest: relative(cwd, manifest.path) || manifest.path,
    loop: relative(cwd, loopDir) || loopDir,
    database: databaseUrl ? databaseUrl.identity() : null,
    capsule:
      capsulePath && evidence
        ? {
            path: relative(cwd, capsulePath) || capsulePath,
            sha256: 'error' in evidence ? null : evidence.sha256,
            rowCounts: 'error' in evidence ? {} : evidence.tables,
            redaction: 'error' in evidence ? null : evidence.redaction,
            graphSize: 'error' in evidence ? null : evidence.graphSize,
          }
        : null,
    events,
    judges,
    facts,
    gate,
    gateReasons,
    shipToStaging,
    ...(interrupted ? { interrupted } : {}),
    ...(runError ? { error: { code: runError.code, message: scrubSecrets(runError.message) } } : {}),
  };
  if (scenario.golden || scenario.expectations.length > 0) {
    // The golden recorded the gate without golden_diffs; compare first, then judge with the count.
    if (scenario.golden) trace.golden = compareWithGolden(trace, scenario.golden);
    facts.golden_diffs = trace.golden ? trace.golden.count : null;
    const unmet = unmetExpectations(scenario.expectations, facts);
    ({ gate, gateReasons, shipToStaging } = evaluateGate(policy, facts, [...forced, ...unmet]));
    Object.assign(trace, { gate, gateReasons, shipToStaging });
  }
  const tracePath = options.traceOut ? resolve(cwd, options.traceOut) : null;
  const junitPath = options.junitOut ? resolve(cwd, options.junitOut) : null;
  if (tracePath) await writeReport(tracePath, `${JSON.stringify(trace, null, 2)}\n`);
  if (junitPath) await writeReport(junitPath, toJunit(trace));
  removeHandlers();
  if (interrupted) throw new RunInterruptedError(interrupted);
  // The trace is written; a bug, a refused target (exit 4, not a gate verdict) or a capsule refused by
  // its encryption or retention (exit 6) still ends the run.
  if (
    runError?.code === 'internal' ||
    runError instanceof UnsafeTargetError ||
    isCapsuleAccessRefusal(runError)
  )
    throw runError;
  return {
    app: manifest.appId,
    gate,
    gateReasons,
    shipToStaging,
    exitCode: verdictExitCode[gate],
    tracePath,
    junitPath,
    phases,
    ...(guard?.recording ? { egressRecording: guard.recording } : {}),
    trace: JSON.parse(scrubSecrets(JSON.stringify(trace))) as RunTrace,
  };
}

async function materializeStep(
  options: RunOptions,
  capsulePath: string,
  databaseUrl: DatabaseUrl,
  examination: CapsuleExamination | undefined,
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
): Promise<{ event: MaterializeEvent; evidence: MaterializationEvidence }> {
  const at = new Date().toISOString();
  const started = performance.now();
  const capsuleRows = examination && !('error' in examination.evidence) ? examination.evidence.tables : {};
  try {
    const result = await materialize({
      manifest: options.manifest,
      capsulePath,
      databaseUrl,
      ...(options.rewriteSubject ? { rewriteSubject: options.rewriteSubject } : {}),
      ...(options.useLocalSubject ? { useLocalSubject: true } : {}),
      ...(options.loadStrategy ? { loadStrategy: options.loadStrategy } : {}),
      ...(options.chunkSize ? { chunkSize: options.chunkSize } : {}),
      ...(options.allowUnsafeTarget ? { allowUnsafeTarget: true } : {}),
      env,
      signal,
    });
    const event: MaterializeEvent = {
      kind: 'materialize',
      name: 'materialize',
      success: result.verified,
      durationMs: Math.round(performance.now() - started),
      at,
      ...(result.strategy ? { strategy: result.strategy } : {}),
      ...(result.subject ? { subject: result.subject } : {}),
      rowCounts: result.rowCounts,
      loaded: result.loaded,
      ...(result.deleted ? { deleted: result.deleted } : {}),
      verified: result.verified,
      ...(result.verified ? {} : { message: notVerified(result) }),
    };
    return {
      event,
      evidence: {
        status: 'done',
        verified: result.verified,
        rowCounts: result.rowCounts,
        loaded: result.loaded,
        valueDifferences: result.valueDifferences ?? {},
        nestedJsonArrays: result.nestedJsonArrays ?? {},
        lossy: result.lossy ?? {},
      },
    };
  } catch (error) {
    // A refused target is not a failed materialization to judge: the run stops, exit 4, like the
    // check before anything runs (the capsule's recorded source is only known once it is read).
    if (!isReplayEnvError(error) || error instanceof UnsafeTargetError) throw error;
    const message = scrubSecrets(error.message);
    const event: MaterializeEvent = {
      kind: 'materialize',
      name: 'materialize',
      success: false,
      durationMs: Math.round(performance.now() - started),
      at,
      message,
      errorCode: error.code,
      rowCounts: capsuleRows,
    };
    return { event, evidence: { status: 'failed', message } };
  }
}

/** The replay URL; only required when something uses it (materialize, sql or session probes). */
function optionalReplayUrl(options: RunOptions, env: NodeJS.ProcessEnv): DatabaseUrl | undefined {
  const { manifest } = options;
  const needed =
    !options.skipMaterialize ||
    manifest.probes.some((probe) => probe.kind === 'sql' || probe.kind === 'session');
  const resolveIt = (): DatabaseUrl =>
    resolveDatabaseUrl({
      flag: options.dbUrl,
      envVar: manifest.postgres.replayDatabaseUrlEnv,
      env,
      fallback: manifest.localDatabaseUrl,
      role: 'replay database',
    });
  if (needed) return resolveIt();
  try {
    return resolveIt();
  } catch {
    return undefined;
  }
}

function tryParse(text: string, envVar: string): DatabaseUrl | undefined {
  try {
    // Parsing also registers its password with the scrubber: a child echoing it would be masked too.
    return DatabaseUrl.parse(text, `$${envVar}`);
  } catch {
    return undefined;
  }
}

function hashPrefixes(manifest: ParsedManifest): string[] {
  return [
    ...new Set([
      'replay-',
      ...manifest.redactionRules.filter((rule) => rule.action === 'hash').map((rule) => rule.prefix),
    ]),
  ];
}

function interruptSignal(signal: AbortSignal): InterruptSignal | undefined {
  if (!signal.aborted) return undefined;
  return signal.reason === 'SIGTERM' ? 'SIGTERM' : 'SIGINT';
}

/** Why a load is not verified: values that differ (value verification), else the row counts. */
function notVerified({
  valueDifferences: differences,
  nestedJsonArrays: nested,
  lossy,
}: Pick<MaterializeResult, 'valueDifferences' | 'nestedJsonArrays' | 'lossy'>): string {
  const rows = (counts: Record<string, number> | undefined) =>
    Object.entries(counts ?? {})
      .map(([table, n]) => `${table} ${n} ${n === 1 ? 'row' : 'rows'}`)
      .join(', ');
  const parts = [
    ...(rows(differences)
      ? [`values in the replay database differ from the capsule: ${rows(differences)}`]
      : []),
    ...(rows(nested) ? [`json/jsonb array shapes not verified: ${rows(nested)}`] : []),
    ...(Object.keys(lossy ?? {}).length > 0
      ? [`values the capsule cannot hold exactly, loaded changed: ${lossyList(lossy!)}`]
      : []),
  ];
  return parts.length > 0 ? parts.join('; ') : 'row counts in the replay database do not match the capsule';
}
