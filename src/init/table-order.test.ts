import { describe, expect, it } from 'vitest';

import type { InitForeignKey } from './schema-catalog.js';
import { loadOrder } from './table-order.js';

const fk = (child: string, parent: string, deferrable = false): InitForeignKey => ({
  name: `${child}_${parent}_fk`,
  child,
  parent,
  columns: ['x'],
  referencedColumns: ['id'],
  deferrable,
});

describe('loadOrder', () => {
  it('parents first; self-references need no order', () => {
    const result = loadOrder(
      ['lines', 'orders', 'customers'],
      [fk('lines', 'orders'), fk('orders', 'customers'), fk('orders', 'orders')],
    );
    expect(result).toEqual({ order: ['customers', 'orders', 'lines'], notes: [], warnings: [] });
  });

  it('a cycle with a deferrable key: ordered by the others, explained in a note', () => {
    const result = loadOrder(['stores', 'staff'], [fk('stores', 'staff', true), fk('staff', 'stores')]);
    expect(result.order).toEqual(['stores', 'staff']);
    expect(result.notes).toEqual([expect.stringContaining('stores_staff_fk is DEFERRABLE')]);
    expect(result.warnings).toEqual([]);
  });

  it('a cycle without one: a warning naming the constraints', () => {
    const result = loadOrder(['a', 'b'], [fk('a', 'b'), fk('b', 'a')]);
    expect(result.warnings).toEqual([
      expect.stringMatching(/cycle a → b → a: none of a_b_fk, b_a_fk is DEFERRABLE/),
    ]);
  });
});
