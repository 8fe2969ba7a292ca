import type { PlaybookResult } from '../../services/playbook.js';

export function renderPlaybookText(playbook: PlaybookResult): string {
  const lines = [`Replay playbook for ${playbook.app} (${playbook.manifest})`, ''];
  playbook.steps.forEach((step, index) => {
    lines.push(`${index + 1}. ${step.title}`, `   ${step.command}`, `   # ${step.why}`, '');
  });
  lines.push('Rules:', ...playbook.rules.map((rule) => `- ${rule}`));
  return lines.join('\n');
}

export function renderPlaybookMarkdown(playbook: PlaybookResult): string {
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
