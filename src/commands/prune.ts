import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';

import { BaseCommand } from '../cli/base-command.js';
import { identityFlag } from '../cli/flags.js';
import { renderPrune } from '../cli/render/prune.js';
import { UsageError } from '../errors.js';
import { parseDuration } from '../governance/duration.js';
import { pruneCapsules, type PruneResult } from '../services/prune.js';

export default class Prune extends BaseCommand<typeof Prune> {
  static override summary = 'Delete capsules past retention, and the traces/files made from them.';
  static override description =
    'Considers regular files directly in DIR (never follows symlinks). A file is made from a capsule when ' +
    'its name starts with the capsule\'s stem ("ada" for ada.json.gz.age) followed by "." or "-", or it is a ' +
    "trace whose capsule.sha256 is the capsule's. --older-than uses the file's modification time.";
  static override examples = [
    '<%= config.bin %> prune capsules/teamdesk --expired --dry-run',
    '<%= config.bin %> prune capsules/teamdesk --older-than 30d',
  ];

  static override args = { dir: Args.string({ default: '.', description: 'Folder holding capsules.' }) };

  static override flags = {
    identity: identityFlag,
    expired: Flags.boolean({ summary: 'Remove capsules whose expiresAt has passed.' }),
    'older-than': Flags.string({ summary: 'Remove capsules modified longer ago than this (e.g. 30d).' }),
    'dry-run': Flags.boolean({ summary: 'Say what would be removed; delete nothing.' }),
  };

  public async run(): Promise<PruneResult> {
    const { flags } = this;
    if (!flags.expired && !flags['older-than'])
      throw new UsageError('prune needs --expired and/or --older-than DURATION');
    const result = await pruneCapsules({
      dir: this.args.dir,
      expired: flags.expired,
      olderThanMs: flags['older-than'] ? parseDuration(flags['older-than'], '--older-than') : undefined,
      dryRun: flags['dry-run'],
    });
    this.log(renderPrune(result));
    return result;
  }
}
