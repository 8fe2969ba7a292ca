import * as Flags from '@oclif/core/flags';

import { BaseCommand } from '../cli/base-command.js';
import { allowExpiredFlag, identityFlag } from '../cli/flags.js';
import { allowUnsafeTargetFlag, appFlag, dbUrlFlag, profileFlag, rewriteSubjectFlag } from '../cli/flags.js';
import { renderProgress, renderRunPhases, renderRunSummary } from '../cli/render/run.js';
import { auditedRun, withAudit } from '../governance/audit-hook.js';
import { loadManifest, parseSubjectRewrite } from '../manifest/index.js';
import { runReplay, type RunResult } from '../services/run.js';

export default class Run extends BaseCommand<typeof Run> {
  static override summary = "Materialize a capsule, run the app's commands and probes, judge, and gate.";
  static override description =
    'Exit status: 0 continue/warn, 10 human_review, 11 block (see docs/run.md). The trace is written with --trace-out, even when a step fails.';
  static override examples = [
    '<%= config.bin %> run --app config/apps/teamdesk.yaml --capsule capsules/teamdesk/ada.json --trace-out capsules/teamdesk/ada-trace.json',
    '<%= config.bin %> run --app config/apps/teamdesk.yaml --skip-materialize --junit reports/replay.xml',
  ];

  static override flags = {
    identity: identityFlag,
    'allow-expired': allowExpiredFlag,
    app: appFlag(),
    capsule: Flags.string({
      char: 'c',
      summary: 'Capsule to materialize (required unless --skip-materialize or --scenario gives one).',
      helpValue: 'FILE',
    }),
    'db-url': dbUrlFlag({
      summary: 'Replay database URL (default: the env var named by postgres.replayDatabaseUrlEnv).',
    }),
    'skip-materialize': Flags.boolean({
      summary: 'Use the replay database as it is; do not load the capsule.',
    }),
    'use-local-subject': Flags.boolean({
      summary: "Rewrite the subject to the manifest's localSubject before loading.",
    }),
    'rewrite-subject': rewriteSubjectFlag(),
    'load-strategy': Flags.option({
      options: ['copy', 'jsonb'] as const,
      summary: 'How materialize loads rows.',
    })(),
    'chunk-size': Flags.integer({ min: 1, summary: 'Rows per chunk when loading.' }),
    'allow-unsafe-target': allowUnsafeTargetFlag,
    'trace-out': Flags.string({ summary: 'Write the trace (JSON) here.', helpValue: 'FILE' }),
    junit: Flags.string({ summary: 'Write a JUnit XML report here (for CI).', helpValue: 'FILE' }),
    loop: Flags.string({ summary: 'Replay loop folder with gate.yaml and judges.yaml.', helpValue: 'DIR' }),
    scenario: Flags.string({
      summary: "Run the loop's scenario ID (its capsule, probes, expect) and compare with its golden trace.",
      helpValue: 'ID',
    }),
    golden: Flags.string({ summary: 'Compare the run with this golden trace.', helpValue: 'FILE' }),
    profile: profileFlag,
  };

  public async run(): Promise<RunResult> {
    const { flags } = this;
    const manifest = await loadManifest(flags.app);
    const json = this.jsonEnabled();
    const audit = { command: 'run', app: manifest.appId };
    const result = await withAudit(
      flags.capsule,
      audit,
      () =>
        runReplay({
          manifest,
          capsule: flags.capsule,
          dbUrl: flags['db-url'],
          skipMaterialize: flags['skip-materialize'],
          useLocalSubject: flags['use-local-subject'],
          rewriteSubject: flags['rewrite-subject']
            ? parseSubjectRewrite(flags['rewrite-subject'], manifest.subjectKeys)
            : undefined,
          loadStrategy: flags['load-strategy'],
          chunkSize: flags['chunk-size'],
          allowUnsafeTarget: flags['allow-unsafe-target'],
          traceOut: flags['trace-out'],
          junitOut: flags.junit,
          loop: flags.loop,
          scenario: flags.scenario,
          golden: flags.golden,
          handleSignals: true,
          onProgress: json
            ? undefined
            : (notice) => {
                const line = renderProgress(notice);
                if (line) process.stderr.write(`${line}\n`);
              },
        }),
      auditedRun,
    );
    if (flags.profile) process.stderr.write(`${renderRunPhases(result.phases)}\n`);
    this.log(renderRunSummary(result));
    this.setExitCode(result.exitCode);
    return result;
  }
}
