import { describe, expect, it } from 'vitest';

import type { ParsedTable } from '../manifest/index.js';
import { pieceCandidate, pieceCount, pieceRanges, samplePercent, splitValues } from './table-pieces.js';

const table = (fields: Partial<ParsedTable>): ParsedTable =>
  ({
    name: 'events',
    alias: 'e',
    from: 'events e',
    rowSql: 'to_jsonb(e)',
    orderBy: 'e.id',
    ...fields,
  }) as ParsedTable;

describe('pieceCandidate', () => {
  it('takes <alias>.<column> ascending as the first order by term, the table first in from', () => {
    expect(pieceCandidate(table({}))).toEqual({ expression: 'e.id', column: 'id', fromItemEnd: 8 });
    expect(pieceCandidate(table({ orderBy: 'e.created_at asc, e.id' }))).toEqual({
      expression: 'e.created_at',
      column: 'created_at',
      fromItemEnd: 8,
    });
    expect(
      pieceCandidate(
        table({
          name: 'public."Events"',
          alias: 'E',
          from: 'public."Events" as e join graph_keys g on g.account_id = e.account_id',
          orderBy: 'e."Id"',
        }),
      ),
    ).toEqual({ expression: 'e."Id"', column: 'Id', fromItemEnd: 'public."Events" as e'.length });
    expect(pieceCandidate(table({ from: 'events e, graph_keys g' }))).toEqual({
      expression: 'e.id',
      column: 'id',
      fromItemEnd: 8,
    });
  });

  it('refuses what ranges could not cover exactly once, in order', () => {
    const refused = (fields: Partial<ParsedTable>) => typeof pieceCandidate(table(fields));
    expect(refused({ orderBy: undefined })).toBe('string');
    expect(refused({ orderBy: 'e.id desc' })).toBe('string');
    expect(refused({ orderBy: 'e.id nulls first' })).toBe('string');
    expect(refused({ orderBy: 'lower(e.name)' })).toBe('string');
    expect(refused({ orderBy: 'id' })).toBe('string');
    expect(refused({ orderBy: 'g.id' })).toBe('string'); // not the table's alias
    expect(refused({ orderBy: 'e.id /* c */' })).toBe('string');
    expect(refused({ from: 'graph_keys g join events e on true' })).toBe('string'); // not first
    expect(refused({ from: 'other e' })).toBe('string');
    expect(refused({ from: 'events x' })).toBe('string');
    expect(refused({ from: '(select * from events) e' })).toBe('string');
  });
});

describe('pieceCount', () => {
  it('cuts a table into pieces of at most a quarter of the export on two connections, at most 4', () => {
    expect(pieceCount(70, 100, 2)).toBe(3);
    expect(pieceCount(25, 100, 2)).toBe(1);
    expect(pieceCount(26, 100, 2)).toBe(2);
    expect(pieceCount(100, 100, 2)).toBe(4);
    expect(pieceCount(100, 100, 1)).toBe(1);
    expect(pieceCount(0, 0, 2)).toBe(1);
  });
});

describe('samplePercent', () => {
  it('samples about 256 pages, all of a small table, at least 0.01 %', () => {
    expect(samplePercent(8192 * 25_600)).toBe(1);
    expect(samplePercent(8192 * 100)).toBe(100);
    expect(samplePercent(8192 * 1e9)).toBe(0.01);
  });
});

describe('splitValues and pieceRanges', () => {
  const bounds = Array.from({ length: 101 }, (_, i) => String(i * 10));
  it('splits at even quantiles of the histogram, without repeating a value', () => {
    expect(splitValues(bounds, 2)).toEqual(['500']);
    expect(splitValues(bounds, 4)).toEqual(['250', '500', '750']);
    expect(splitValues(['a', 'a', 'a', 'a', 'a', 'b'], 3)).toEqual(['a']);
    expect(splitValues(['1', '2', '3'], 2)).toEqual([]); // too short a histogram
  });

  it('gives ranges from below the first value to unbounded after the last', () => {
    const candidate = { expression: 'e.id', column: 'id', fromItemEnd: 8 };
    const operators = { lessThan: 'operator(pg_catalog.<)', atLeast: 'operator(pg_catalog.>=)' };
    expect(pieceRanges(candidate, { type: 'bigint', operators }, ['10', '20'])).toEqual([
      { expression: 'e.id', type: 'bigint', operators, from: undefined, below: '10' },
      { expression: 'e.id', type: 'bigint', operators, from: '10', below: '20' },
      { expression: 'e.id', type: 'bigint', operators, from: '20', below: undefined },
    ]);
  });
});
