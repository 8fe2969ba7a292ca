import { lossyList } from '../../capsule/lossy-values.js';
import type { InspectResult } from '../../services/inspect.js';
import { sortGraphForDisplay } from './natural-order.js';

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
    ...(result.integrity.lossy
      ? [field('lossy', `${lossyList(result.integrity.lossy)} (values the capsule cannot hold exactly)`)]
      : []),
    '',
    `graph: ${result.graph.size} subject(s); by reason: ${pairs(result.graph.reasons) || 'none'}`,
  ];
  // Numeric-aware for reading (`16` before `119`, issue #14 item 8); --json keeps the capsule's order.
  for (const entry of sortGraphForDisplay(result.graph.entries, Object.keys(result.subject))) {
    const { reasons, ...keys } = entry;
    lines.push(`  ${pairs(keys)}  [${reasons.join(', ')}]`);
  }
  const tables = Object.entries(result.rowCounts);
  const width = Math.max(5, ...tables.map(([table]) => table.length));
  lines.push('', `tables: ${tables.length}, rows: ${result.totalRows}`);
  for (const [table, rows] of tables) lines.push(`  ${table.padEnd(width)}  ${String(rows).padStart(10)}`);
  return lines.join('\n');
}
