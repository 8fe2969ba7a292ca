import type { ClosurePlan } from '../graph/closure-plan.js';
import type { ClosureForeignKey } from '../graph/closure-sql.js';

/** A parent table whose closure rows one query fetches (graph/closure-sql.ts buildClosureDirectQuery). */
export interface DirectTarget {
  columns: string[];
  types: string[];
  /** The foreign keys into it the query joins: each from a table that exports exactly its own query's rows. */
  fks: ClosureForeignKey[];
}

/**
 * Parent tables closure can complete with one query joining their children's own queries, instead of
 * passing the children's keys through the export: every foreign key into the table references the same
 * columns and comes from a table closure never adds rows to (nothing references it, it follows nothing),
 * so the rows it wants are exactly those its children's queries reference. The table itself follows
 * nothing, and no reference table follows its keys (those need them one by one). A self-reference or a
 * cycle never qualifies (the table, or a member of the cycle, is referenced). Nor does a parent with a
 * child in `unrepeatable` (closure-catalog.ts readUnrepeatableTables): run a second time without its
 * orderBy, that child's query could select other rows (random(), now(), tablesample, a `limit`) — parents
 * of exported rows would be missed, parents of rows not exported added — nor a parent in `unrepeatable`
 * (the query leaves out the parent's own rows by running its query again: rows exported would come
 * twice). Keyed by table name.
 *
 * `partial`: a parent with other children too (closure adds rows to them, or their query is not
 * repeatable) qualifies, outside a cycle or self-reference: the query joins the plain children (those must
 * reference the same columns) and the others' keys are passed (`fks` lists only the joined ones). Used
 * by closure.ts's prefix, where every child whose keys are passed is read before the parent is closed.
 */
export function directTargets(
  plan: ClosurePlan,
  unrepeatable: ReadonlySet<string> = new Set(),
  partial = false,
): Map<string, DirectTarget> {
  const incoming = new Map<string, ClosureForeignKey[]>();
  for (const fks of plan.outgoing.values())
    for (const fk of fks) incoming.set(fk.parent, [...(incoming.get(fk.parent) ?? []), fk]);
  const followed = new Set([...plan.follows.values()].map((fk) => fk.parent));
  const inCycle = new Set(plan.groups.filter((group) => group.length > 1).flat());
  const plain = (table: string) =>
    !incoming.has(table) && !plan.follows.has(table) && !unrepeatable.has(table);
  const direct = new Map<string, DirectTarget>();
  for (const [table, fks] of incoming) {
    if (!plan.outgoing.has(table) || plan.follows.has(table) || followed.has(table)) continue;
    if (unrepeatable.has(table)) continue;
    const joined = fks.filter((fk) => plain(fk.child));
    if (joined.length === 0) continue;
    const cyclic = inCycle.has(table) || fks.some((fk) => fk.child === table);
    if (joined.length < fks.length && (!partial || cyclic)) continue;
    const columns = joined[0]!.referencedColumns;
    if (!joined.every((fk) => fk.referencedColumns.join('\0') === columns.join('\0'))) continue;
    if (!partial && fks.some((fk) => fk.referencedColumns.join('\0') !== columns.join('\0'))) continue;
    direct.set(table, { columns, types: joined[0]!.referencedTypes, fks: joined });
  }
  return direct;
}
