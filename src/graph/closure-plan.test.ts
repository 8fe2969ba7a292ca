import { describe, expect, it } from 'vitest';

import { planClosure } from './closure-plan.js';
import type { ClosureForeignKey } from './closure-sql.js';

const fk = (child: string, parent: string, name = `${child}_${parent}`): ClosureForeignKey => ({
  name,
  child,
  parent,
  columns: [`${parent}_id`],
  referencedColumns: ['id'],
  referencedTypes: ['integer'],
});

describe('planClosure', () => {
  it('orders children before parents, whatever the manifest order', () => {
    const plan = planClosure(
      ['regions', 'stores', 'customers', 'orders'],
      [fk('stores', 'regions'), fk('customers', 'stores'), fk('orders', 'customers')],
    );
    expect(plan.groups).toEqual([['orders'], ['customers'], ['stores'], ['regions']]);
  });

  it('puts a cycle in one group (manifest order inside), a self-reference stays alone', () => {
    const plan = planClosure(
      ['stores', 'staff', 'orders'],
      [fk('stores', 'staff'), fk('staff', 'stores'), fk('staff', 'staff', 'boss'), fk('orders', 'staff')],
    );
    expect(plan.groups).toEqual([['orders'], ['stores', 'staff']]);
    expect(plan.outgoing.get('staff')!.map((f) => f.name)).toEqual(['staff_stores', 'boss']);
  });

  it('keeps unrelated tables, and ignores keys to tables outside the manifest', () => {
    const plan = planClosure(['a', 'b'], [fk('a', 'elsewhere')]);
    expect(plan.groups.flat().sort()).toEqual(['a', 'b']);
    expect(plan.outgoing.get('a')).toHaveLength(1);
  });
});
