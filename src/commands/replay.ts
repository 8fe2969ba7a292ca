import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';

import { BaseCommand } from '../cli/base-command.js';
import { allowUnsafeTargetFlag, dbUrlFlag } from '../cli/flags.js';
import { renderReplayEvent, renderReplayHeader, renderReplaySummary } from '../cli/render/replay.js';
import { UsageError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { loadManifest } from '../manifest/index.js';
import { defaultProdDatabaseUrlEnv, defaultReplayDatabaseUrlEnv } from '../manifest/parsed-manifest.js';
import { checkTargetBeforeConnect, resolveDatabaseUrl } from '../postgres/target.js';
import { scrubSecrets } from '../secrets.js';
import { type ReplaySessionResult, replayUntilInterrupted } from '../services/replay.js';

export default class Replay extends BaseCommand<typeof Replay> {
  static override summary = 'Re-execute a recorded session and compare every result with the recording.';
  static override description = `Exits ${ExitCode.replayMismatch} when a result differs or a query fails that did not fail when recorded.`;
  static override examples = [
    '<%= config.bin %> replay sessions/alice_2025-10-07_21-30-15.json --db-url "$APP_REPLAY_DATABASE_URL"',
    '<%= config.bin %> replay sessions/alice_2025-10-07_21-30-15.json --app config/apps/teamdesk.yaml --commit',
    '<%= config.bin %> replay sessions/alice_2025-10-07_21-30-15.json --ignore-columns created_at,id --unordered',
  ];

  static override args = {
    file: Args.string({
      required: true,
      description: 'Session file (.json, or a .json.journal left by a stopped proxy).',
    }),
  };

  static override flags = {
    'db-url': dbUrlFlag({
      summary: `Database to replay against (default: $${defaultReplayDatabaseUrlEnv}).`,
    }),
    app: Flags.string({
      char: 'a',
      summary:
        'App manifest: its replay env var and localDatabaseUrl name the database; its production env var is refused.',
      helpValue: 'MANIFEST',
    }),
    rollback: Flags.boolean({
      summary: 'Run the whole replay in a transaction that is rolled back (the default; kept for scripts).',
      exclusive: ['commit'],
    }),
    commit: Flags.boolean({
      summary: 'Keep what the replayed session writes (default: everything is rolled back).',
      exclusive: ['rollback'],
    }),
    'allow-unsafe-target': allowUnsafeTargetFlag,
    speed: Flags.string({
      summary: 'Keep the recorded gaps between queries, divided by N (1 = real time).',
      helpValue: 'N',
      exclusive: ['no-wait'],
    }),
    'no-wait': Flags.boolean({ summary: 'Run queries back to back (the default).' }),
    'ignore-columns': Flags.string({
      summary: 'Columns left out of the comparison (volatile values).',
      helpValue: 'a,b',
    }),
    unordered: Flags.boolean({ summary: 'Compare rows regardless of their order.' }),
  };

  public async run(): Promise<ReplaySessionResult> {
    const speed = this.flags.speed === undefined ? undefined : Number(this.flags.speed);
    if (speed !== undefined && !(speed > 0)) throw new UsageError('--speed must be a positive number');
    const manifest = this.flags.app ? await loadManifest(this.flags.app) : undefined;
    const databaseUrl = resolveDatabaseUrl({
      flag: this.flags['db-url'],
      envVar: manifest?.postgres.replayDatabaseUrlEnv ?? defaultReplayDatabaseUrlEnv,
      fallback: manifest?.localDatabaseUrl,
    });
    // The same guard as materialize: a recorded session can hold any write, so production-looking
    // targets and the export source are refused before connecting.
    checkTargetBeforeConnect(databaseUrl, {
      prodEnvVar: manifest?.postgres.prodDatabaseUrlEnv ?? defaultProdDatabaseUrlEnv,
      allowUnsafeTarget: this.flags['allow-unsafe-target'],
    });
    const live = !this.jsonEnabled();
    const result = await replayUntilInterrupted({
      file: this.args.file,
      databaseUrl,
      // Rolled back unless --commit: replaying writes into a database is the exception, not the rule.
      rollback: !this.flags.commit,
      ...(speed ? { speed } : {}),
      ignoreColumns:
        this.flags['ignore-columns']
          ?.split(',')
          .map((name) => name.trim())
          .filter(Boolean) ?? [],
      unordered: this.flags.unordered,
      onEvent: (event) => {
        if (!live) return;
        // The banner waits until the file has loaded, so a malformed file gives just the error line.
        if (event.kind === 'loaded') this.log(renderReplayHeader().join('\n'));
        this.log(scrubSecrets(renderReplayEvent(event).join('\n')));
      },
    });
    if (live) this.log(renderReplaySummary(result).join('\n'));
    if (!result.ok) this.setExitCode(ExitCode.replayMismatch);
    return result;
  }
}
