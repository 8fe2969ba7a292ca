import type { ParsedManifest } from '../manifest/index.js';
import type { TableInfo } from '../postgres/catalog.js';
import { type DoctorCheck, fail, pass, warn } from './check.js';

/** Each declared table exists, with its primary key (a warn without one: reloads cannot replace by key). */
export function tableChecks(
  manifest: ParsedManifest,
  tables: ReadonlyMap<string, TableInfo>,
  database: string,
): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  for (const name of manifest.postgres.tableOrder) {
    const info = tables.get(name);
    if (!info) {
      checks.push(fail(`db.table.${name}`, `table ${name}`, `does not exist in ${database}`));
      continue;
    }
    const key = info.primaryKey.length > 0 ? `primary key (${info.primaryKey.join(', ')})` : 'no primary key';
    checks.push(
      pass(`db.table.${name}`, `table ${name}`, `exists: ${info.columns.length} column(s), ${key}`),
    );
    if (info.primaryKey.length === 0) {
      checks.push(
        warn(
          `db.primary-key.${name}`,
          `table ${name}`,
          'has no primary key: reloads cannot replace its rows by key, only its deletePredicate clears them',
        ),
      );
    }
  }
  return checks;
}
