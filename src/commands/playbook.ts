import * as Flags from '@oclif/core/flags';

import { BaseCommand } from '../cli/base-command.js';
import { appFlag } from '../cli/flags.js';
import { renderPlaybookMarkdown, renderPlaybookText } from '../cli/render/playbook.js';
import { loadManifest } from '../manifest/index.js';
import { buildPlaybook, type PlaybookResult } from '../services/playbook.js';

export default class Playbook extends BaseCommand<typeof Playbook> {
  static override summary =
    'Print the app-specific sequence of replay commands, filled in from the manifest.';
  static override examples = ['<%= config.bin %> playbook --app config/apps/teamdesk.yaml'];

  static override flags = {
    app: appFlag(),
    markdown: Flags.boolean({ summary: 'Print as Markdown (for an AGENTS.md or an issue).' }),
  };

  public async run(): Promise<PlaybookResult> {
    const manifest = await loadManifest(this.flags.app);
    const playbook = buildPlaybook(manifest);
    this.log(this.flags.markdown ? renderPlaybookMarkdown(playbook) : renderPlaybookText(playbook));
    return playbook;
  }
}
