import * as Args from '@oclif/core/args';

import { BaseCommand } from '../cli/base-command.js';
import { identityFlag } from '../cli/flags.js';
import { renderInspect } from '../cli/render/inspect.js';
import { ExitCode } from '../exit-codes.js';
import { inspectCapsule, type InspectResult } from '../services/inspect.js';

export default class Inspect extends BaseCommand<typeof Inspect> {
  static override summary =
    'Summarise a capsule: app, subject, graph with reasons, rows per table, integrity.';
  static override description =
    'Plain aligned text, made to be piped into an agent prompt. Exit code 6 when the capsule is corrupt, ' +
    'truncated or fails its integrity check.';
  static override examples = [
    '<%= config.bin %> inspect capsules/teamdesk/acme-ada.json',
    '<%= config.bin %> inspect capsules/teamdesk/acme-ada.json | codex exec "plan the smallest safe repair"',
  ];

  static override args = {
    capsule: Args.string({ required: true, description: 'Capsule file (.json or .json.gz).' }),
  };

  static override flags = { identity: identityFlag };

  public async run(): Promise<InspectResult> {
    const result = await inspectCapsule(this.args.capsule);
    this.log(renderInspect(result));
    if (result.integrity.status === 'failed') this.setExitCode(ExitCode.integrity);
    return result;
  }
}
