import { Args } from '@oclif/core';

import { BaseCommand } from '../cli/base-command.js';
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

  public async run(): Promise<InspectResult> {
    const result = await inspectCapsule(this.args.capsule);
    this.log(renderInspect(result));
    if (result.integrity.status === 'failed') this.setExitCode(ExitCode.integrity);
    return result;
  }
}

/** Aligned `key: value` lines, then the graph and the tables; no colour, no box drawing. */
export function renderInspect(result: InspectResult): string {
  const pairs = (record: Record<string, unknown>) =>
    Object.entries(record)
      .map(([key, value]) => `${key}=${String(value)}`)
      .join(', ');
  const field = (name: string, value: string) => `${`${name}:`.padEnd(12)} ${value}`;
  const lines = [
    field('capsule', result.path),
    field('app', `${result.app} (${result.adapter})`),
    field('subject', pairs(result.subject)),
    field('redaction', result.redaction ?? 'unknown'),
    field('exported', result.exportedAt ?? 'unknown'),
    field('window', result.window ? pairs(result.window) : 'unknown'),
    field('layout', `${result.layout}${result.compressed ? ', gzip' : ''}`),
    field('file', `${result.file.bytes} bytes, sha256 ${result.file.sha256}`),
    field(
      'integrity',
      `${result.integrity.status}${result.integrity.problems.length ? `: ${result.integrity.problems.join('; ')}` : ''}`,
    ),
    '',
    `graph: ${result.graph.size} subject(s); by reason: ${pairs(result.graph.reasons) || 'none'}`,
  ];
  for (const entry of result.graph.entries) {
    const { reasons, ...keys } = entry;
    lines.push(`  ${pairs(keys)}  [${reasons.join(', ')}]`);
  }
  const tables = Object.entries(result.rowCounts);
  const width = Math.max(5, ...tables.map(([table]) => table.length));
  lines.push('', `tables: ${tables.length}, rows: ${result.totalRows}`);
  for (const [table, rows] of tables) lines.push(`  ${table.padEnd(width)}  ${String(rows).padStart(10)}`);
  return lines.join('\n');
}
