import { describe, expect, it } from 'vitest';

import type { ForeignKeyInfo, TableInfo } from '../postgres/catalog.js';
import { foreignKeyOrderChecks } from './foreign-key-order.js';

const info = (name: string, regclass = name): TableInfo => ({
  name,
  regclass,
  columns: [],
  primaryKey: ['id'],
});
const fk = (name: string, table: string, referencedTable: string): ForeignKeyInfo => ({
  name,
  table,
  columns: ['parent_id'],
  referencedTable,
  referencedColumns: ['id'],
});

describe('foreignKeyOrderChecks', () => {
  const tables = new Map([
    ['parents', info('parents')],
    ['children', info('children')],
    ['billing.items', info('billing.items')],
  ]);

  it('passes parents-first orders and self-references', () => {
    const checks = foreignKeyOrderChecks(['parents', 'children'], tables, [
      fk('children_fk', 'children', 'parents'),
      fk('parents_self', 'parents', 'parents'),
    ]);
    expect(checks.map((c) => `${c.status} ${c.detail}`)).toEqual([
      'pass parents load before children (2 foreign key(s) between exported tables)',
    ]);
  });

  it('fails a child before its parent, through schema-qualified names too', () => {
    const checks = foreignKeyOrderChecks(['billing.items', 'children', 'parents'], tables, [
      fk('children_fk', 'children', 'parents'),
      fk('items_fk', 'billing.items', 'children'),
    ]);
    expect(checks.map((c) => [c.status, c.id])).toEqual([
      ['fail', 'fk.order.children_fk'],
      ['fail', 'fk.order.items_fk'],
    ]);
    expect(checks[1]!.detail).toMatch(
      /^billing\.items loads before its parent children \(foreign key items_fk/,
    );
  });

  it('ignores tables that do not exist (the table check reports them)', () => {
    expect(
      foreignKeyOrderChecks(['children', 'ghost'], new Map([['children', info('children')]]), []),
    ).toEqual([expect.objectContaining({ status: 'pass' })]);
  });
});
