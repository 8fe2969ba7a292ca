import type { ForeignKeyInfo, TableInfo } from '../postgres/catalog.js';
import { type DoctorCheck, fail, pass, warn } from './check.js';

/**
 * Load order against the database's foreign keys. `tables` maps manifest names to catalog info (only
 * tables that exist); foreign keys name tables by `regclass` text, so both sides are mapped through it.
 *
 * - fail: `tableOrder` loads a child before its parent (both exported; self-references are fine, a
 *   row's parent may be in the same table and Postgres checks at statement end);
 * - warn: a foreign key from an exported table to one the manifest does not export (the replay
 *   database must already hold those parents);
 * - warn: a foreign key into an exported table from one it does not export (deleting the graph's rows
 *   before a reload fails if such a child row points at them).
 */
export function foreignKeyOrderChecks(
  tableOrder: readonly string[],
  tables: ReadonlyMap<string, TableInfo>,
  foreignKeys: readonly ForeignKeyInfo[],
): DoctorCheck[] {
  const byRegclass = new Map<string, string>();
  for (const name of tableOrder) {
    const info = tables.get(name);
    if (info) byRegclass.set(info.regclass, name);
  }
  const position = new Map(tableOrder.map((name, index) => [name, index]));
  const checks: DoctorCheck[] = [];
  let inside = 0;
  for (const fk of foreignKeys) {
    const child = byRegclass.get(fk.table);
    const parent = byRegclass.get(fk.referencedTable);
    const columns = `${fk.table}(${fk.columns.join(', ')}) → ${fk.referencedTable}(${fk.referencedColumns.join(', ')})`;
    if (child !== undefined && parent !== undefined) {
      inside += 1;
      // Self-references and DEFERRABLE keys (checked at commit; materialize defers all) need no order.
      if (child === parent || fk.deferrable) continue;
      const [childAt, parentAt] = [position.get(child)!, position.get(parent)!];
      if (childAt < parentAt) {
        checks.push(
          fail(
            `fk.order.${fk.name}`,
            'table order',
            `${child} loads before its parent ${parent} (foreign key ${fk.name}: ${columns}); move ${parent} before ${child} in postgres.tableOrder`,
          ),
        );
      }
    } else if (child !== undefined) {
      checks.push(
        warn(
          `fk.outside.${fk.name}`,
          `foreign key ${fk.name}`,
          `${columns}: ${fk.referencedTable} is not exported; loading ${child} needs those rows to be in the replay database already`,
        ),
      );
    } else if (parent !== undefined) {
      checks.push(
        warn(
          `fk.inbound.${fk.name}`,
          `foreign key ${fk.name}`,
          `${columns}: ${fk.table} is not exported; clearing ${parent} rows before a reload fails if ${fk.table} rows in the replay database point at them (unless the key cascades)`,
        ),
      );
    }
  }
  if (!checks.some((c) => c.status === 'fail')) {
    checks.unshift(
      pass(
        'fk.order',
        'table order',
        `parents load before children (${inside} foreign key(s) between exported tables)`,
      ),
    );
  }
  return checks;
}
