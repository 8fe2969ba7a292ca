import { checkColumns } from '../materialize/column-check.js';
import type { TableInfo } from '../postgres/catalog.js';
import { type DoctorCheck, fail, pass } from './check.js';

/**
 * Capsule columns against the replay schema, with the same check materialize applies
 * (`materialize/column-check.ts`): a row key the table does not have would be lost on load (schema
 * drift between production and the replay database), and a NOT NULL column without default that the
 * rows lack makes the load fail. `columns` holds the keys seen per table.
 */
export function capsuleColumnChecks(
  columns: ReadonlyMap<string, ReadonlySet<string>>,
  tables: ReadonlyMap<string, TableInfo>,
): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  for (const [table, seen] of columns) {
    const info = tables.get(table);
    if (!info) continue; // a missing table is reported by the table check
    const result = checkColumns(seen, info);
    const id = `capsule.columns.${table}`;
    const name = `capsule table ${table}`;
    if (result.unknownColumns.length > 0) {
      checks.push(
        fail(
          id,
          name,
          `column(s) ${result.unknownColumns.join(', ')} are in the capsule but not in the replay database's ${table}`,
        ),
      );
    }
    if (result.missingRequired.length > 0) {
      checks.push(
        fail(
          id,
          name,
          `the replay database's ${table} requires column(s) ${result.missingRequired.join(', ')} (NOT NULL, no default) that the capsule rows lack`,
        ),
      );
    }
  }
  if (checks.length === 0) {
    checks.push(
      pass('capsule.columns', 'capsule columns', 'every capsule column exists in the replay database'),
    );
  }
  return checks;
}
