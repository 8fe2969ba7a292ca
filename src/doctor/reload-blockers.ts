import type { ParsedManifest } from '../manifest/index.js';
import type { ForeignKeyInfo, TableInfo } from '../postgres/catalog.js';

/**
 * Tables whose reload cannot work (issue #14 item 7): a table without a deletePredicate whose rows point
 * (foreign key) at a table that has one. Materialize deletes the parent's graph rows before the load;
 * the child's rows are never deleted, so any pointing at a deleted parent row that the capsule does not
 * bring back (or brings back under another key, after a subject rewrite) violate the key and the load
 * rolls back. The first load into an empty database works, which is why it must be caught here.
 *
 * Returns table name → the reason and what to add. Self-references and deferrable keys do not help: the
 * key is checked at commit all the same.
 */
export function reloadBlockers(
  manifest: ParsedManifest,
  tables: ReadonlyMap<string, TableInfo>,
  foreignKeys: readonly ForeignKeyInfo[],
): Map<string, string> {
  const byRegclass = new Map([...tables].map(([name, info]) => [info.regclass, name]));
  const predicate = new Map(manifest.postgres.tables.map((table) => [table.name, table.deletePredicate]));
  const blockers = new Map<string, string>();
  for (const fk of foreignKeys) {
    const child = byRegclass.get(fk.table);
    const parent = byRegclass.get(fk.referencedTable);
    if (child === undefined || parent === undefined || child === parent) continue;
    if (predicate.get(child) || !predicate.get(parent) || blockers.has(child)) continue;
    blockers.set(
      child,
      `none, but ${parent} has one: a reload deletes the graph's ${parent} rows first and keeps the ${child} rows ` +
        `pointing at them (foreign key ${fk.name}: ${child}(${fk.columns.join(', ')})), so the second load fails; ` +
        `add tables[${child}].deletePredicate selecting the ${child} rows of the graph keys (t = the ${child} row, ` +
        `g = a graph key), e.g. the rows whose ${fk.columns.join(', ')} point at a ${parent} row its deletePredicate matches`,
    );
  }
  return blockers;
}
