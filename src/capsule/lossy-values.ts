import type { Integrity } from '../generated/capsule.js';

/**
 * The integrity trailer's lossy-value counts (table → column → rows; graph/lossy-values-sql.ts), only
 * the tables with any; undefined when none has.
 */
export function lossyOfTrailer(
  tables: Integrity['tables'],
): Record<string, Record<string, number>> | undefined {
  const found = Object.entries(tables).filter(([, entry]) => entry.lossy);
  return found.length > 0
    ? Object.fromEntries(found.map(([table, entry]) => [table, entry.lossy!]))
    : undefined;
}

/**
 * Lossy-value counts (table → column → rows; graph/lossy-values-sql.ts) as one phrase:
 * `docs.d 1 row, docs.meta 3 rows`.
 */
export function lossyList(lossy: Record<string, Record<string, number>>): string {
  return Object.entries(lossy)
    .flatMap(([table, columns]) =>
      Object.entries(columns).map(
        ([column, rows]) => `${table}.${column} ${rows} row${rows === 1 ? '' : 's'}`,
      ),
    )
    .join(', ');
}
