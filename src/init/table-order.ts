import type { InitForeignKey } from './schema-catalog.js';

/**
 * Load order, parents first: depth-first over child → parent foreign keys among `tables` (in the order
 * given), following only NOT DEFERRABLE ones — a deferrable constraint is checked at commit, since
 * materialize runs `set constraints all deferred`, so it needs no order and is what breaks a cycle.
 * Self-references need no order either (Postgres checks at statement end). Cycles are reported: handled
 * when one of their foreign keys is deferrable, a warning (which constraint to make deferrable) otherwise.
 */
export function loadOrder(
  tables: readonly string[],
  fks: readonly InitForeignKey[],
): { order: string[]; notes: string[]; warnings: string[] } {
  const inside = new Set(tables);
  const edges = fks.filter((fk) => fk.child !== fk.parent && inside.has(fk.child) && inside.has(fk.parent));
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const hardCycles: InitForeignKey[][] = [];
  const path: InitForeignKey[] = [];
  const visit = (table: string) => {
    state.set(table, 'visiting');
    for (const fk of edges.filter((e) => e.child === table && !e.deferrable)) {
      const seen = state.get(fk.parent);
      if (seen === 'visiting') {
        const start = path.findIndex((p) => p.child === fk.parent);
        hardCycles.push([...path.slice(start === -1 ? path.length : start), fk]);
      } else if (seen === undefined) {
        path.push(fk);
        visit(fk.parent);
        path.pop();
      }
    }
    state.set(table, 'done');
    order.push(table);
  };
  for (const table of tables) if (!state.has(table)) visit(table);
  const notes: string[] = [];
  const warnings: string[] = [];
  const position = new Map(order.map((name, index) => [name, index]));
  for (const fk of edges.filter((e) => e.deferrable && position.get(e.child)! < position.get(e.parent)!)) {
    notes.push(
      `cycle through ${fk.child} → ${fk.parent}: ${fk.name} is DEFERRABLE, so ${fk.child} loads first and the constraint is checked at commit`,
    );
  }
  for (const cycle of hardCycles) {
    const names = [...cycle.map((fk) => fk.child), cycle[0]!.child].join(' → ');
    const text = `cycle ${names}: none of ${cycle.map((fk) => fk.name).join(', ')} is DEFERRABLE, so no load order works; make one deferrable in the replay schema`;
    notes.push(text);
    warnings.push(text);
  }
  return { order, notes, warnings };
}
