import { ManifestError } from '../errors.js';
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
  /**
   * `closure: parents-and-reference`: per reference table, the foreign key through which it takes the
   * rows that reference an included row of the subjects' tables or their parents (film_actor → film).
   */
  follows: Map<string, ClosureForeignKey>;
}

/**
 * Orders manifest tables so every table is written after all tables that reference it (they decide which
 * of its rows are needed): Tarjan's strongly connected components over child → parent edges, which come
 * out parents first, reversed. Self-references stay inside one group (handled by re-querying the table).
 *
 * With `reference` (closure: parents-and-reference): `subjectTables` belong to subjects (a foreign-key
 * path to the subject table, or an own query scoped by graph_keys); they and their ancestors are the
 * anchors. Every other table with a foreign key into an anchor follows the first such key (one hop: a
 * table reached only as the parent of a reference row — an actor — never brings its other children).
 * A follower runs after every other child of the parent it follows, so that parent's keys are complete
 * but for its own closure lookups, and before the parent is written, which then adds the rows the
 * follower's other references need.
 */
export function planClosure(
  tables: readonly string[],
  fks: readonly ClosureForeignKey[],
  reference?: { subjectTables: ReadonlySet<string> },
): ClosurePlan {
  const outgoing = new Map<string, ClosureForeignKey[]>(tables.map((name) => [name, []]));
  for (const fk of fks) outgoing.get(fk.child)?.push(fk);
  const inManifest = (fk: ClosureForeignKey) => outgoing.has(fk.child) && outgoing.has(fk.parent);
  const follows = reference ? followedKeys(tables, fks, outgoing, reference.subjectTables) : new Map();
  // X → Y: X is written before Y.
  const before = new Map<string, string[]>(tables.map((name) => [name, []]));
  for (const fk of fks) if (inManifest(fk)) before.get(fk.child)!.push(fk.parent);
  for (const [follower, followed] of follows)
    for (const fk of fks)
      if (
        inManifest(fk) &&
        fk.parent === followed.parent &&
        fk.child !== follower &&
        follows.get(fk.child) !== fk
      )
        before.get(fk.child)!.push(follower);
  const groups = stronglyConnected(tables, before).reverse();
  for (const [follower, fk] of follows) {
    const cyclic = groups.find(
      (group) => group.length > 1 && (group.includes(follower) || group.includes(fk.parent)),
    );
    if (cyclic)
      throw new ManifestError(
        `postgres.closure: parents-and-reference: ${follower} follows ${fk.parent} (${fk.name}), but they are in a foreign-key cycle (${cyclic.join(', ')})`,
        [],
        `give ${follower} its own where, or use closure: parents`,
      );
  }
  return { groups, outgoing, follows };
}

function followedKeys(
  tables: readonly string[],
  fks: readonly ClosureForeignKey[],
  outgoing: Map<string, ClosureForeignKey[]>,
  subjectTables: ReadonlySet<string>,
): Map<string, ClosureForeignKey> {
  const anchors = new Set(tables.filter((name) => subjectTables.has(name)));
  let grew = true;
  while (grew) {
    grew = false;
    for (const fk of fks)
      if (anchors.has(fk.child) && outgoing.has(fk.parent) && !anchors.has(fk.parent)) {
        anchors.add(fk.parent);
        grew = true;
      }
  }
  const follows = new Map<string, ClosureForeignKey>();
  for (const name of tables) {
    if (anchors.has(name)) continue;
    const fk = outgoing.get(name)!.find((candidate) => anchors.has(candidate.parent));
    if (fk) follows.set(name, fk);
  }
  return follows;
}

/** Tarjan: components of the graph `edges`, each after every component it reaches (sinks first). */
function stronglyConnected(tables: readonly string[], edges: Map<string, string[]>): string[][] {
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
    for (const next of edges.get(name) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(name, Math.min(low.get(name)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(name, Math.min(low.get(name)!, index.get(next)!));
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
  return components;
}
