import type { ParsedManifest } from '../manifest/index.js';

/**
 * Tables that exported no rows although their query reads the history window (`since_at`): the
 * `--since-days` window may have excluded their history (issue #14 item 8), which an empty table alone
 * does not say. The graph edges count too: a window on the graph narrows every table.
 */
export function emptyWindowedTables(manifest: ParsedManifest, rowCounts: Record<string, number>): string[] {
  const mentions = (sql: string | undefined) => sql !== undefined && /\bsince_at\b/i.test(sql);
  const graphWindowed = manifest.postgres.graphEdges.some(mentions);
  return manifest.postgres.tables
    .filter((table) => rowCounts[table.name] === 0)
    .filter(
      (table) => graphWindowed || mentions(table.from) || mentions(table.where) || mentions(table.rowSql),
    )
    .map((table) => table.name);
}
