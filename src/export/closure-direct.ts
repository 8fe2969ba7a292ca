import type { ClosurePlan } from '../graph/closure-plan.js';
import type { ClosureForeignKey } from '../graph/closure-sql.js';

/** A parent table whose closure rows one query fetches (graph/closure-sql.ts buildClosureDirectQuery). */
export interface DirectTarget {
  columns: string[];
  types: string[];
  /**
   * The foreign keys into it the query joins: each from a table that exports exactly its own query's rows,
   * or from one in `through`.
   */
  fks: ClosureForeignKey[];
  /**
   * Children of `fks` that closure adds rows to, each completed by one query of its own (a target whose
   * children are all plain): the query joins such a child's own query and the rows its query adds.
   */
  through?: Map<string, DirectTarget>;
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
 * `through`: a child closure adds rows to may be joined too when it is itself such a target with only
 * plain children, wholly: its rows are then its own query's and those its children's queries reference,
 * both of which the parent's query can select again — at the price of running the grandchildren's queries
 * once more. One level only: deeper, each level would run all the queries below it again.
 *
 * `partial`: a parent with other children too (closure adds rows to them, or their query is not
 * repeatable) qualifies, outside a cycle or self-reference: the query joins the plain children (those must
 * reference the same columns) and the others' keys are passed (`fks` lists only the joined ones). Used
 * by closure.ts's prefix, where every child whose keys are passed is read before the parent is closed.
 */
export function directTargets(
  plan: ClosurePlan,
  unrepeatable: ReadonlySet<string> = new Set(),
  { partial = false, through: nest = false }: { partial?: boolean; through?: boolean } = {},
): Map<string, DirectTarget> {
  const incoming = new Map<string, ClosureForeignKey[]>();
  for (const fks of plan.outgoing.values())
    for (const fk of fks) incoming.set(fk.parent, [...(incoming.get(fk.parent) ?? []), fk]);
  const followed = new Set([...plan.follows.values()].map((fk) => fk.parent));
  const inCycle = new Set(plan.groups.filter((group) => group.length > 1).flat());
  const plain = (table: string) =>
    !incoming.has(table) && !plan.follows.has(table) && !unrepeatable.has(table);
  const candidate = (table: string) =>
    plan.outgoing.has(table) && !plan.follows.has(table) && !followed.has(table) && !unrepeatable.has(table);
  const cyclic = (table: string, fks: readonly ClosureForeignKey[]) =>
    inCycle.has(table) || fks.some((fk) => fk.child === table);
  const sameColumns = (fks: readonly ClosureForeignKey[]) =>
    fks.every((fk) => fk.referencedColumns.join('\0') === fks[0]!.referencedColumns.join('\0'));
  const target = (fks: ClosureForeignKey[], through?: Map<string, DirectTarget>): DirectTarget => ({
    columns: fks[0]!.referencedColumns,
    types: fks[0]!.referencedTypes,
    fks,
    ...(through?.size ? { through } : {}),
  });
  // Completed wholly by their plain children: a parent of theirs can join them (`through`).
  const wholly = new Map<string, DirectTarget>();
  for (const [table, fks] of incoming)
    if (candidate(table) && !cyclic(table, fks) && fks.every((fk) => plain(fk.child)) && sameColumns(fks))
      wholly.set(table, target(fks));
  const direct = new Map<string, DirectTarget>();
  for (const [table, fks] of incoming) {
    if (!candidate(table)) continue;
    const joined = fks.filter((fk) => plain(fk.child) || (nest && wholly.has(fk.child)));
    if (joined.length === 0 || !sameColumns(joined)) continue;
    if (joined.length < fks.length && (!partial || cyclic(table, fks))) continue;
    if (!partial && !sameColumns(fks)) continue;
    const through = new Map(
      joined.filter((fk) => wholly.has(fk.child)).map((fk) => [fk.child, wholly.get(fk.child)!]),
    );
    direct.set(table, target(joined, through));
  }
  return direct;
}
