import type { ClosureForeignKey } from './closure-sql.js';

/** What the closure export does, table by table (see planClosure). */
export interface ClosurePlan {
  /**
   * Groups of tables in export order, children before parents: a group is one table, or several that
   * reference each other in a cycle (their keys are computed to a fixpoint before any row is written).
   */
  groups: string[][];
  /** Per table: foreign keys into other manifest tables (or itself), whose keys its rows hand on. */
  outgoing: Map<string, ClosureForeignKey[]>;
}

/**
 * Orders manifest tables so every table is written after all tables that reference it (they decide which
 * of its rows are needed): Tarjan's strongly connected components over child → parent edges, which come
 * out parents first, reversed. Self-references stay inside one group (handled by re-querying the table).
 */
export function planClosure(tables: readonly string[], fks: readonly ClosureForeignKey[]): ClosurePlan {
  const outgoing = new Map<string, ClosureForeignKey[]>(tables.map((name) => [name, []]));
  for (const fk of fks) outgoing.get(fk.child)?.push(fk);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  const visit = (name: string): void => {
    index.set(name, counter);
    low.set(name, counter);
    counter += 1;
    stack.push(name);
    onStack.add(name);
    for (const fk of outgoing.get(name) ?? []) {
      if (!outgoing.has(fk.parent)) continue;
      if (!index.has(fk.parent)) {
        visit(fk.parent);
        low.set(name, Math.min(low.get(name)!, low.get(fk.parent)!));
      } else if (onStack.has(fk.parent)) {
        low.set(name, Math.min(low.get(name)!, index.get(fk.parent)!));
      }
    }
    if (low.get(name) === index.get(name)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== name);
      // Keep the manifest's order inside a cycle, so output is stable.
      components.push(tables.filter((table) => component.includes(table)));
    }
  };
  for (const name of tables) if (!index.has(name)) visit(name);
  return { groups: components.reverse(), outgoing };
}
