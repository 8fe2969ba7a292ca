import { Args, Flags } from '@oclif/core';

import { BaseCommand } from '../cli/base-command.js';
import { dbUrlFlag } from '../cli/flags.js';
import { renderReplayEvent, renderReplayHeader, renderReplaySummary } from '../cli/render/replay.js';
import { UsageError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { defaultReplayDatabaseUrlEnv } from '../manifest/parsed-manifest.js';
import { resolveDatabaseUrl } from '../postgres/resolve-url.js';
import { scrubSecrets } from '../secrets.js';
import { replaySession, type ReplaySessionResult } from '../services/replay.js';

export default class Replay extends BaseCommand<typeof Replay> {
  static override summary = 'Re-execute a recorded session and compare every result with the recording.';
  static override description = `Exits ${ExitCode.replayMismatch} when a result differs or a query fails that did not fail when recorded.`;
  static override examples = [
    '<%= config.bin %> replay sessions/alice_2025-10-07_21-30-15.json --db-url "$APP_REPLAY_DATABASE_URL" --rollback',
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
    rollback: Flags.boolean({
      summary: 'Run the whole replay in a transaction that is rolled back: the database is left unchanged.',
    }),
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
    const databaseUrl = resolveDatabaseUrl({
      flag: this.flags['db-url'],
      envVar: defaultReplayDatabaseUrlEnv,
      role: 'replay database',
    });
    const live = !this.jsonEnabled();
    const result = await replaySession({
      file: this.args.file,
      databaseUrl,
      rollback: this.flags.rollback,
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
