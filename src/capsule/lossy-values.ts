/**
 * JSON-null counts (table → json/jsonb column → rows; graph/lossy-values-sql.ts) as one phrase:
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
