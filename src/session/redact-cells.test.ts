import { describe, expect, it } from 'vitest';

import { hashValue } from '../redaction/index.js';
import { redactRows } from './redact-cells.js';

const columns = ['id', 'email', 'note'];

describe('redactRows', () => {
  it('returns the same rows when no rule names a column', () => {
    const rows = [['1', 'a@x.test', 'hi']];
    expect(redactRows(columns, rows, [])).toBe(rows);
    expect(redactRows(columns, rows, [{ fields: ['password'], action: 'null' }])).toBe(rows);
  });

  it('applies each action to the named columns, as text', () => {
    const rows = [['1', 'a@x.test', 'hi']];
    const redact = (action: 'empty' | 'null' | 'empty_object' | 'empty_array') =>
      redactRows(columns, rows, [{ fields: ['note'], action }])[0];
    expect(redact('empty')).toEqual(['1', 'a@x.test', '']);
    expect(redact('null')).toEqual(['1', 'a@x.test', null]);
    expect(redact('empty_object')).toEqual(['1', 'a@x.test', '{}']);
    expect(redact('empty_array')).toEqual(['1', 'a@x.test', '[]']);
    expect(rows[0]).toEqual(['1', 'a@x.test', 'hi']);
  });

  it('hashes with the rule prefix, or the default one', () => {
    const rows = [['1', 'a@x.test', 'hi']];
    expect(redactRows(columns, rows, [{ fields: ['email'], action: 'hash', prefix: 'mail-' }])).toEqual([
      ['1', hashValue('a@x.test', 'mail-'), 'hi'],
    ]);
    expect(redactRows(columns, rows, [{ fields: ['email'], action: 'hash' }])[0]![1]).toMatch(
      /^replay-[0-9a-f]{12}$/,
    );
  });

  it('the last rule naming a column decides its action', () => {
    const rows = [['1', 'a@x.test', 'hi']];
    const rules = [
      { fields: ['email'], action: 'null' as const },
      { fields: ['email', 'note'], action: 'empty' as const },
    ];
    expect(redactRows(columns, rows, rules)).toEqual([['1', '', '']]);
  });

  it.each(['hash', 'empty', 'null', 'empty_object', 'empty_array'] as const)(
    '%s leaves null and "" as they are (the original tool\'s rule, as for capsule rows)',
    (action) => {
      const rows = [
        ['1', null, ''],
        ['2', '', null],
      ];
      expect(redactRows(columns, rows, [{ fields: ['email', 'note'], action }])).toEqual(rows);
    },
  );
});
