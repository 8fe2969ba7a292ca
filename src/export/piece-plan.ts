/**
 * Whether a table's query, as PostgreSQL plans it, gives each row of the table on its own: then its
 * pieces (table-pieces.ts, `where … and <range>`) give, one after the other, the rows of the whole. Not
 * when a node above the table's scan works on the rows together — a window function in `rowSql`
 * (WindowAgg), a `limit`/`offset` (Limit), an aggregate, DISTINCT, a set operation — or when a join above
 * it can add the table's columns as NULLs (an outer join on the table's nullable side): a piece would
 * number, cut, group or NULL-extend its own rows only. Read from the plan, not the SQL text, so a
 * comment, a keyword spelt otherwise or a planner's rewrite cannot hide one.
 */

/** A node of `EXPLAIN (FORMAT JSON)`. */
export interface PlanNode {
  'Node Type'?: string;
  'Join Type'?: string;
  'Parent Relationship'?: string;
  'Relation Name'?: string;
  Alias?: string;
  Plans?: PlanNode[];
}

/** Nodes that pass each row of the table on by itself (sorting, gathering, joining, appending). */
const perRowNodes = new Set([
  'Nested Loop',
  'Hash Join',
  'Merge Join',
  'Hash',
  'Sort',
  'Incremental Sort',
  'Gather',
  'Gather Merge',
  'Materialize',
  'Memoize',
  'Result',
  'Append',
  'Merge Append',
  'ProjectSet',
]);

/**
 * Why the plan does not give the rows of the table (a scan of one of `relations` under `alias`, or
 * `<alias>_<n>`, as EXPLAIN names a partition's) each on its own; undefined when it does. Subplans and
 * init plans (a `where` subquery) are evaluated per row or once: not on the table's path.
 */
export function perRowProblem(
  root: PlanNode,
  alias: string,
  relations: ReadonlySet<string>,
): string | undefined {
  const named = new RegExp(`^${alias.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(_\\d+)?$`);
  let scans = 0;
  let problem: string | undefined;
  const visit = (node: PlanNode, path: ReadonlyArray<{ node: PlanNode; via: string | undefined }>) => {
    if (
      node['Relation Name'] !== undefined &&
      relations.has(node['Relation Name']) &&
      named.test(node.Alias ?? '')
    ) {
      scans += 1;
      for (const { node: above, via } of path) problem ??= nodeProblem(above, via);
    }
    for (const plan of node.Plans ?? []) {
      const via = plan['Parent Relationship'];
      if (via !== 'SubPlan' && via !== 'InitPlan') visit(plan, [...path, { node, via }]);
    }
  };
  visit(root, []);
  return scans === 0 ? 'the table is not scanned under its alias' : problem;
}

/**
 * Why `node`, above the table's scan through its child related as `via` (EXPLAIN's Parent Relationship),
 * does not pass its rows on each alone.
 */
function nodeProblem(node: PlanNode, via: string | undefined): string | undefined {
  const type = node['Node Type'] ?? '';
  if (!perRowNodes.has(type)) return `a ${type} node works on its rows together`;
  const join = node['Join Type'];
  // A left join keeps its outer side and NULL-extends its inner one; a right join the reverse.
  if (join === 'Full' || (join === 'Left' && via !== 'Outer') || (join === 'Right' && via !== 'Inner'))
    return `a ${join.toLowerCase()} join can add its columns as NULLs`;
  return undefined;
}
