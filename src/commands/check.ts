import * as Flags from '@oclif/core/flags';

import { BaseCommand } from '../cli/base-command.js';
import { allowExpiredFlag, allowUnsafeTargetFlag, appFlag, dbUrlFlag, identityFlag } from '../cli/flags.js';
import { renderCheck } from '../cli/render/check.js';
import { loadManifest } from '../manifest/index.js';
import { checkLoop, type CheckResult } from '../services/check.js';

export default class Check extends BaseCommand<typeof Check> {
  static override summary =
    'Run every scenario of a loop, compare each with its golden trace, and gate (CI step).';
  static override description =
    'Each executable scenario (one with a capsule) is materialized, run, compared with its golden and its `expect`. ' +
    'One verdict, the worst; exit status like run: 0 continue/warn, 10 human_review, 11 block. Updates loop-state.yaml last_round.';
  static override examples = [
    '<%= config.bin %> check --loop loops/user-history-replay --app config/apps/teamdesk.yaml --junit reports/check.xml',
  ];

  static override flags = {
    loop: Flags.string({ required: true, summary: 'Loop folder with scenarios.yaml.', helpValue: 'DIR' }),
    app: appFlag(),
    'db-url': dbUrlFlag({
      summary: 'Replay database URL (default: the env var named by postgres.replayDatabaseUrlEnv).',
    }),
    junit: Flags.string({
      summary: 'Write a JUnit XML report (one test case per scenario).',
      helpValue: 'FILE',
    }),
    'trace-dir': Flags.string({ summary: "Write each scenario's trace to DIR/<id>.json.", helpValue: 'DIR' }),
    'allow-unsafe-target': allowUnsafeTargetFlag,
    // Read by BaseCommand.init for every capsule the scenarios name (src/capsule/capsule-access.ts).
    identity: identityFlag,
    'allow-expired': allowExpiredFlag,
  };

  public async run(): Promise<CheckResult> {
    const { flags } = this;
    const manifest = await loadManifest(flags.app);
    const json = this.jsonEnabled();
    const result = await checkLoop({
      manifest,
      loop: flags.loop,
      dbUrl: flags['db-url'],
      junitOut: flags.junit,
      traceDir: flags['trace-dir'],
      allowUnsafeTarget: flags['allow-unsafe-target'],
      handleSignals: true,
      onScenario: json
        ? undefined
        : (scenario) =>
            process.stderr.write(
              `  ${scenario.id}: ${scenario.verdict} (${(scenario.durationMs / 1000).toFixed(2)}s)\n`,
            ),
    });
    this.log(renderCheck(result));
    this.setExitCode(result.exitCode);
    return result;
  }
}
