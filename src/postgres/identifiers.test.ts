import { describe, expect, it } from 'vitest';

import {
  manifestTableName,
  parseTableName,
  quoteIdent,
  quoteTable,
  sameTableName,
  tableNameProblem,
} from './identifiers.js';

describe('manifest table names (one rule: SQL spelling, keywords are names, always quoted in SQL)', () => {
  it.each([
    // the original tool's names mean the same table as before
    ['tickets', '"tickets"'],
    ['public.tickets', '"public"."tickets"'],
    ['order_notes', '"order_notes"'],
    // unquoted capitals fold, as the original tool's unquoted SQL folded them
    ['Tickets', '"tickets"'],
    // keywords are names
    ['user', '"user"'],
    ['order', '"order"'],
    ['public.select', '"public"."select"'],
    // quoted parts are exact
    ['"Items"', '"Items"'],
    ['"Order Lines"', '"Order Lines"'],
    ['"My Schema"."Order Lines"', '"My Schema"."Order Lines"'],
    ['billing."Invoices"', '"billing"."Invoices"'],
    ['"a""b"', '"a""b"'],
    ['"a.b"', '"a.b"'],
    ['"ünïcode"', '"ünïcode"'],
  ])('%s → %s', (name, sql) => {
    expect(quoteTable(name)).toBe(sql);
    expect(tableNameProblem(name)).toBeUndefined();
  });

  it.each([
    ['', 'each part is a plain identifier'],
    ['a.b.c', 'at most schema.table'],
    ['a b', 'separated by a dot'],
    ['a.', 'each part is a plain identifier'],
    ['"Items', 'not closed'],
    ['""', 'empty'],
    ['"a"b"', 'separated by a dot'],
    ['1abc', 'each part is a plain identifier'],
    ['x;drop table y', 'separated by a dot'],
  ])('%j is refused (%s)', (name, problem) => {
    expect(tableNameProblem(name)).toContain(problem);
    expect(() => quoteTable(name)).toThrow(problem);
  });

  it('refuses names that would end or nest the SQL comment labels, control characters and truncation', () => {
    expect(tableNameProblem('"a*/ drop table x; /*"')).toBe('a part contains /* or */');
    expect(tableNameProblem('"a/*b"')).toBe('a part contains /* or */');
    expect(tableNameProblem('"evil\nappId: x"')).toBe('a part contains a control character');
    expect(tableNameProblem(`"${'é'.repeat(32)}"`)).toContain('longer than 63 bytes'); // 64 bytes
    expect(tableNameProblem(`"${'é'.repeat(31)}x"`)).toBeUndefined(); // 63 bytes
    expect(tableNameProblem('a'.repeat(64))).toContain('longer than 63 bytes');
  });

  it('parses to the exact stored parts', () => {
    expect(parseTableName('Billing."Invoice ""Lines"""')).toEqual({
      schema: 'billing',
      name: 'Invoice "Lines"',
    });
    expect(parseTableName('user')).toEqual({ schema: undefined, name: 'user' });
  });

  it('init writes catalog names so that they parse back to themselves', () => {
    for (const [schema, name] of [
      [undefined, 'tickets'],
      [undefined, 'user'],
      [undefined, 'Items'],
      ['My Schema', 'Order Lines'],
      ['billing', 'a"b'],
      [undefined, '_x1'],
      [undefined, '1x'],
    ] as const) {
      const written = manifestTableName(schema, name);
      expect(parseTableName(written)).toEqual({ schema, name });
    }
    expect(manifestTableName(undefined, 'Items')).toBe('"Items"');
    expect(manifestTableName(undefined, 'user')).toBe('user');
    expect(manifestTableName('billing', 'orders')).toBe('billing.orders');
  });

  it('tells spellings of one table apart from different tables', () => {
    expect(sameTableName('Tickets', 'tickets')).toBe(true);
    expect(sameTableName('"tickets"', 'tickets')).toBe(true);
    expect(sameTableName('"Tickets"', 'tickets')).toBe(false);
    expect(sameTableName('public.tickets', 'tickets')).toBe(false); // search_path decides: not certain
  });

  it('quoteIdent doubles quotes', () => {
    expect(quoteIdent('a"b')).toBe('"a""b"');
  });
});
