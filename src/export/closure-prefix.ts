import type { ClosurePlan } from '../graph/closure-plan.js';
import type { ClosureForeignKey } from '../graph/closure-sql.js';
import type { DirectTarget } from './closure-direct.js';

/**
 * The capsule's first tables in load order that closure can complete before any later table is read:
 * every table closure adds rows to by passed keys, every table whose rows pass it keys, and every table
 * between them in load order. The tables after it are then read (by its other connection, too) while the
 * prefix is completed and streamed into the capsule as in an export without closure, rather than held in
 * spool files until every child is read (closure.ts). Parents of later tables are completed by one query
 * each (closure-direct.ts, `partial`), so none of their keys come from a table after the prefix.
 *
 * Undefined when there is none: nothing is completed by passed keys (every table streams in load order),
 * reference tables follow parents (their keys come from the parents' closure rows, in phase two), or the
 * prefix would be every table.
 */
export function closurePrefix(
  plan: ClosurePlan,
  direct: ReadonlyMap<string, DirectTarget>,
  loadOrder: readonly string[],
): string[] | undefined {
  if (plan.follows.size > 0) return undefined;
  const passed = passedKeys(plan, direct);
  if (passed.length === 0) return undefined;
  const end = Math.max(
    ...passed.flatMap((fk) => [fk.parent, fk.child]).map((name) => loadOrder.indexOf(name)),
  );
  return end < loadOrder.length - 1 ? loadOrder.slice(0, end + 1) : undefined;
}

/** The foreign keys whose keys pass through the export: those no parent's one query joins. */
export function passedKeys(
  plan: ClosurePlan,
  direct: ReadonlyMap<string, DirectTarget>,
): ClosureForeignKey[] {
  return [...plan.outgoing.values()].flat().filter((fk) => !direct.get(fk.parent)?.fks.includes(fk));
}
