import { Flags } from '@oclif/core';

import { BaseCommand } from '../cli/base-command.js';
import { appFlag } from '../cli/flags.js';
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
    this.log(this.flags.markdown ? renderMarkdown(playbook) : renderText(playbook));
    return playbook;
  }
}

function renderText(playbook: PlaybookResult): string {
  const lines = [`Replay playbook for ${playbook.app} (${playbook.manifest})`, ''];
  playbook.steps.forEach((step, index) => {
    lines.push(`${index + 1}. ${step.title}`, `   ${step.command}`, `   # ${step.why}`, '');
  });
  lines.push('Rules:', ...playbook.rules.map((rule) => `- ${rule}`));
  return lines.join('\n');
}

function renderMarkdown(playbook: PlaybookResult): string {
  const lines = [`## Replay playbook: ${playbook.app}`, ''];
  playbook.steps.forEach((step, index) => {
    lines.push(
      `${index + 1}. **${step.title}** — ${step.why}`,
      '',
      '   ```sh',
      `   ${step.command}`,
      '   ```',
      '',
    );
  });
  lines.push('Rules:', '', ...playbook.rules.map((rule) => `- ${rule}`));
  return lines.join('\n');
}
