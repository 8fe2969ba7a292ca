import { describe, expect, it } from 'vitest';

import { type ComparableResult, compareResults } from './compare-results.js';

const result = (partial: Partial<ComparableResult>): ComparableResult => ({
  columns: ['id', 'name'],
  rows: [
    ['1', 'ada'],
    ['2', null],
  ],
  commandTag: 'SELECT 2',
  error: null,
  ...partial,
});
const error = (code: string, message = 'boom') => ({ code, message, severity: 'ERROR' });

describe('compareResults', () => {
  it('matches the same text, null included', () => {
    expect(compareResults(result({}), result({}))).toEqual({ verdict: 'matched' });
  });

  it('a null and the text "null" differ', () => {
    const got = result({
      rows: [
        ['1', 'ada'],
        ['2', 'null'],
      ],
    });
    expect(compareResults(result({}), got)).toEqual({
      verdict: 'mismatched',
      diff: 'row 2: expected ["2",null], got ["2","null"]',
    });
  });

  it('reports columns, command tag, differing rows and the row count', () => {
    const got = result({ columns: ['id', 'title'], rows: [['1', 'bob']], commandTag: 'SELECT 1' });
    expect(compareResults(result({}), got).diff?.split('\n')).toEqual([
      'columns: expected ["id","name"], got ["id","title"]',
      'command tag: expected "SELECT 2", got "SELECT 1"',
      'row 1: expected ["1","ada"], got ["1","bob"]',
      'row 2: expected ["2",null], got (none)',
      'rows: expected 2, got 1',
    ]);
  });

  it('shows at most maxDiffRows differing rows (3 by default)', () => {
    const rows = (value: string) => Array.from({ length: 5 }, (_, index) => [String(index), value]);
    const diff = compareResults(result({ rows: rows('a') }), result({ rows: rows('b') })).diff!;
    expect(diff.split('\n')).toHaveLength(3);
    expect(
      compareResults(result({ rows: rows('a') }), result({ rows: rows('b') }), { maxDiffRows: 1 }).diff,
    ).toBe('row 1: expected ["0","a"], got ["0","b"]');
  });

  it('leaves ignored columns out, and compares unordered rows as multisets', () => {
    const got = result({
      rows: [
        ['2', null],
        ['1', 'ada'],
      ],
    });
    expect(compareResults(result({}), got).verdict).toBe('mismatched');
    expect(compareResults(result({}), got, { unordered: true })).toEqual({ verdict: 'matched' });
    const renamed = result({
      rows: [
        ['1', 'x'],
        ['2', 'y'],
      ],
    });
    expect(compareResults(result({}), renamed, { ignoreColumns: ['name'] })).toEqual({ verdict: 'matched' });
    // Multisets: a repeated row must be repeated as often.
    const twice = result({
      rows: [
        ['1', 'ada'],
        ['1', 'ada'],
      ],
    });
    expect(compareResults(result({}), twice, { unordered: true }).verdict).toBe('mismatched');
  });

  it('errors match by SQLSTATE only', () => {
    expect(
      compareResults(result({ error: error('23505', 'a') }), result({ error: error('23505', 'b') })),
    ).toEqual({
      verdict: 'error-matched',
    });
    expect(compareResults(result({ error: error('23505') }), result({ error: error('42P01') }))).toEqual({
      verdict: 'new-error',
      diff: 'error: expected 23505 (boom), got 42P01 (boom)',
    });
  });

  it('a new failure is a new error; a recorded failure that now succeeds is a mismatch', () => {
    expect(compareResults(result({}), result({ error: error('42P01') }))).toEqual({
      verdict: 'new-error',
      diff: 'error: expected success, got 42P01 (boom)',
    });
    expect(compareResults(result({ error: error('42P01') }), result({}))).toEqual({
      verdict: 'mismatched',
      diff: 'error: expected 42P01 (boom), the query succeeded',
    });
  });
});
