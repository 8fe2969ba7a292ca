import type { PruneResult } from '../../services/prune.js';

/** One line per capsule removed (or that would be, with --dry-run), then its derived files indented. */
export function renderPrune(result: PruneResult): string {
  const verb = result.dryRun ? 'would remove' : 'removed';
  const lines: string[] = [];
  for (const entry of result.removed) {
    lines.push(`${verb} ${entry.capsule} (${entry.reason})`);
    for (const file of entry.derived) lines.push(`  ${verb} ${file}`);
  }
  for (const entry of result.skipped) lines.push(`skipped ${entry.capsule}: ${entry.reason}`);
  if (result.removed.length === 0) lines.push(`nothing to prune in ${result.dir}`);
  return lines.join('\n');
}
