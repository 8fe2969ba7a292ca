import { describe, expect, it } from 'vitest';

import { perRowProblem, type PlanNode } from './piece-plan.js';

const scan = (alias: string, relation = 'items'): PlanNode => ({
  'Node Type': 'Index Scan',
  'Relation Name': relation,
  Alias: alias,
});
/** A node over `plans`, related to it as EXPLAIN says: Outer, Inner, else Member (set unless given). */
const node = (type: string, plans: PlanNode[], extra: Partial<PlanNode> = {}): PlanNode => ({
  'Node Type': type,
  Plans: plans.map((plan, index) => ({
    'Parent Relationship': plans.length === 2 ? (index === 0 ? 'Outer' : 'Inner') : 'Outer',
    ...plan,
  })),
  ...extra,
});
const initPlan: PlanNode = { 'Node Type': 'Function Scan', Alias: 'p', 'Parent Relationship': 'InitPlan' };
const items = new Set(['items', 'items_low']);

describe('perRowProblem', () => {
  it('passes sorts, gathers, inner joins and appends of partitions above the table', () => {
    const keys: PlanNode = { 'Node Type': 'Function Scan', Alias: 'g' };
    expect(
      perRowProblem(
        node('Sort', [node('Hash Join', [scan('x'), node('Hash', [keys])], { 'Join Type': 'Inner' })]),
        'x',
        items,
      ),
    ).toBeUndefined();
    expect(
      perRowProblem(
        node('Gather Merge', [node('Merge Append', [scan('x_1', 'items_low'), scan('x_2', 'items')])]),
        'x',
        items,
      ),
    ).toBeUndefined();
    // The table on the kept side of a left join, an init plan before it (EXPLAIN lists it first), and
    // of a right join.
    const left = node('Merge Join', [scan('x'), scan('n', 'notes')], { 'Join Type': 'Left' });
    expect(perRowProblem({ ...left, Plans: [initPlan, ...left.Plans!] }, 'x', items)).toBeUndefined();
    const right = node('Hash Join', [scan('n', 'notes'), node('Hash', [scan('x')])], {
      'Join Type': 'Right',
    });
    expect(perRowProblem(right, 'x', items)).toBeUndefined();
  });

  it('finds what works on the rows together, or NULL-extends them, above the table', () => {
    expect(perRowProblem(node('WindowAgg', [scan('x')]), 'x', items)).toMatch(/WindowAgg/);
    expect(perRowProblem(node('Limit', [node('Sort', [scan('x')])]), 'x', items)).toMatch(/Limit/);
    expect(perRowProblem(node('Aggregate', [scan('x')]), 'x', items)).toMatch(/Aggregate/);
    expect(perRowProblem(node('Unique', [scan('x')]), 'x', items)).toMatch(/Unique/);
    const keys: PlanNode = { 'Node Type': 'Function Scan', Alias: 'g' };
    expect(
      perRowProblem(
        node('Hash Join', [keys, node('Hash', [scan('x')])], { 'Join Type': 'Left' }),
        'x',
        items,
      ),
    ).toMatch(/left join/);
    expect(
      perRowProblem(
        node('Hash Join', [scan('x'), node('Hash', [keys])], { 'Join Type': 'Right' }),
        'x',
        items,
      ),
    ).toMatch(/right join/);
    expect(perRowProblem(node('Merge Join', [scan('x'), keys], { 'Join Type': 'Full' }), 'x', items)).toMatch(
      /full join/,
    );
  });

  it('leaves subplans and init plans aside, and wants the table scanned under its alias', () => {
    const subplan = node('Aggregate', [scan('y')], { 'Parent Relationship': 'SubPlan' });
    expect(
      perRowProblem(node('Index Scan', [subplan], { 'Relation Name': 'items', Alias: 'x' }), 'x', items),
    ).toBeUndefined();
    expect(perRowProblem(node('Sort', [scan('y')]), 'x', items)).toMatch(/not scanned/);
    expect(perRowProblem(node('Sort', [scan('x', 'other')]), 'x', items)).toMatch(/not scanned/);
    // Every scan of the table counts: a second one under a pulled-up subquery's Aggregate too.
    expect(
      perRowProblem(
        node('Hash Join', [scan('x'), node('Hash', [node('Aggregate', [scan('x_1')])])], {
          'Join Type': 'Semi',
        }),
        'x',
        items,
      ),
    ).toMatch(/Aggregate/);
  });
});
