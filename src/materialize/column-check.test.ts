import { describe, expect, it } from 'vitest';

import type { TableInfo } from '../postgres/catalog.js';
import { checkColumns, columnProblems } from './column-check.js';

const column = (name: string, extra: Partial<TableInfo['columns'][number]> = {}) => ({
  name,
  type: 'text',
  notNull: false,
  hasDefault: false,
  generated: false,
  identity: '' as const,
  ...extra,
});

const table: TableInfo = {
  name: 'tickets',
  regclass: 'tickets',
  primaryKey: ['id'],
  columns: [
    column('id', { type: 'bigint', notNull: true, identity: 'a' }),
    column('subject', { notNull: true }),
    column('status', { notNull: true, hasDefault: true }),
    column('search', { generated: true }),
    column('note'),
  ],
};

describe('checkColumns', () => {
  it('writes capsule columns the table has, skips generated ones, and notes identity ALWAYS', () => {
    const check = checkColumns(['id', 'subject', 'search'], table);
    expect(check).toEqual({
      table: 'tickets',
      unknownColumns: [],
      missingRequired: [],
      generatedSkipped: ['search'],
      writable: ['id', 'subject'],
      overridingSystemValue: true,
    });
    expect(columnProblems(check)).toEqual([]);
  });

  it('reports capsule columns the table lacks and required columns the capsule lacks', () => {
    const check = checkColumns(['id', 'coupon', 'extra'], table);
    expect(check.unknownColumns).toEqual(['coupon', 'extra']);
    expect(check.missingRequired).toEqual(['subject']);
    expect(columnProblems(check)).toEqual([
      'tables[tickets]: the capsule has column(s) coupon, extra that the replay table does not',
      'tables[tickets]: NOT NULL column(s) subject have no default and are not in the capsule',
    ]);
  });
});
