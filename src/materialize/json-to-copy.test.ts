import { describe, expect, it } from 'vitest';

import { type CopyColumn, copyEscape, InvalidRow, RowConverter, UnsupportedRow } from './json-to-copy.js';

const text = { type: 'scalar', numeric: false } as const;
const num = { type: 'scalar', numeric: true } as const;
const json = { type: 'json' } as const;
const textArray = { type: 'array', element: 'scalar', numeric: false } as const;
const numArray = { type: 'array', element: 'scalar', numeric: true } as const;
const jsonArray = { type: 'array', element: 'json', numeric: false } as const;

function convert(kind: CopyColumn['kind'], value: string): string {
  return new RowConverter([{ name: 'v', kind }]).convert(`{"v":${value}}`);
}

describe('RowConverter', () => {
  it.each([
    ['plain text', text, '"abc"', 'abc'],
    ['null', text, 'null', '\\N'],
    ['the string NULL', text, '"NULL"', 'NULL'],
    ['the string \\N', text, '"\\\\N"', '\\\\N'],
    ['empty string', text, '""', ''],
    ['tab, newline, CR, backslash', text, '"a\\tb\\nc\\rd\\\\e"', 'a\\tb\\nc\\rd\\\\e'],
    ['quotes and slash', text, '"say \\"hi\\" \\/"', 'say "hi" /'],
    ['\\b and \\f stay raw', text, '"\\b\\f"', '\b\f'],
    ['unicode escape', text, '"caf\\u00e9"', 'café'],
    ['surrogate pair escape', text, '"\\ud83c\\udf89"', '🎉'],
    ['raw non-ASCII', text, '"emoji 🎉 ü"', 'emoji 🎉 ü'],
    ['bytea', text, '"\\\\x00ff10"', '\\\\x00ff10'],
    ['boolean', text, 'true', 'true'],
    ['boolean false', text, 'false', 'false'],
    [
      'numeric digits verbatim',
      num,
      '12345678901234567890.123456789012',
      '12345678901234567890.123456789012',
    ],
    ['negative fraction', num, '-0.0000000001', '-0.0000000001'],
    ['trailing zeros kept', num, '2.50', '2.50'],
    ['NaN as string', num, '"NaN"', 'NaN'],
    ['-Infinity as string', num, '"-Infinity"', '-Infinity'],
    [
      'jsonb object verbatim',
      json,
      '{"a": [1, 2.50, null], "s": "x\\ty"}',
      '{"a": [1, 2.50, null], "s": "x\\\\ty"}',
    ],
    ['jsonb string keeps its quotes', json, '"s"', '"s"'],
    ['jsonb number', json, '1.0', '1.0'],
    ['jsonb null is SQL NULL', json, 'null', '\\N'],
    [
      'text[]',
      textArray,
      '["a,b", "c\\"d", null, "e\\\\f", "", "NULL", "{x}"]',
      '{"a,b","c\\\\"d",NULL,"e\\\\\\\\f","","NULL","{x}"}',
    ],
    ['empty array', textArray, '[]', '{}'],
    ['array literal as a string', textArray, '"{a,b}"', '{a,b}'],
    ['int[][]', numArray, '[[1, 2], [3, null]]', '{{1,2},{3,NULL}}'],
    ['text[] with tab and newline', textArray, '["a\\tb", "c\\nd"]', '{"a\\tb","c\\nd"}'],
    [
      'jsonb[]',
      jsonArray,
      '[{"k": "v"}, 1, "s", null, [2]]',
      '{"{\\\\"k\\\\": \\\\"v\\\\"}","1","\\\\"s\\\\"",NULL,{"2"}}',
    ],
    ['bool[]', textArray, '[true, false]', '{true,false}'],
  ])('%s', (_name, kind, value, expected) => {
    expect(convert(kind, value)).toBe(expected);
  });

  it('orders fields by the column list, skips generated keys, NULLs missing keys', () => {
    const converter = new RowConverter(
      [
        { name: 'a', kind: num },
        { name: 'b', kind: text },
        { name: 'c', kind: text },
      ],
      ['g'],
    );
    expect(converter.convert('{"c":"z","g":[1,{"x":"}"}],"a":1}')).toBe('1\t\\N\tz');
    expect(converter.convert(' { "b" : "y" , "a" : 2 } ')).toBe('2\ty\t\\N');
    expect(converter.convert('{}')).toBe('\\N\t\\N\t\\N');
  });

  it('reads rows whose keys change order, are escaped, or come after a string with a backslash', () => {
    const converter = new RowConverter([
      { name: 'id', kind: num },
      { name: 't', kind: text },
      { name: 'j', kind: json },
    ]);
    // The first row sets the expected key order; the next ones break it in different ways.
    expect(converter.convert('{"id": 1, "t": "a", "j": {"k": "v"}}')).toBe('1\ta\t{"k": "v"}');
    expect(converter.convert('{"j": [1], "t": "b", "id": 2}')).toBe('2\tb\t[1]');
    expect(converter.convert('{"\\u0069d": 3, "t": "c\\\\d", "j": "e"}')).toBe('3\tc\\\\d\t"e"');
    // A string without a backslash before one with: each is escaped on its own.
    expect(converter.convert('{"id": 4, "t": "plain", "j": {"a": "x\\ny", "b": "\\\\"}}')).toBe(
      '4\tplain\t{"a": "x\\\\ny", "b": "\\\\\\\\"}',
    );
    expect(converter.convert('{"t": "tab\\there", "id": 5}')).toBe('5\ttab\\there\t\\N');
    // A key that merely starts like an expected one is not taken for it.
    expect(() => converter.convert('{"idx": 6}')).toThrow(UnsupportedRow);
  });

  it.each([
    ['an unknown key', '{"x":1}'],
    ['a number with an exponent', '{"v":1e3}'],
    ['a number for a text column', '{"t":1}'],
    ['an object for a scalar column', '{"t":{"a":1}}'],
    ['an array for a scalar column', '{"t":[1]}'],
    ['a scalar for an array column', '{"arr":1}'],
    ['an object in a text array', '{"arr":[{"a":1}]}'],
    ['an empty inner array', '{"arr":[[]]}'],
    ['\\u0000', '{"t":"a\\u0000"}'],
  ])('leaves %s to the staging path', (_name, row) => {
    const converter = new RowConverter([
      { name: 'v', kind: num },
      { name: 't', kind: text },
      { name: 'arr', kind: textArray },
    ]);
    expect(() => converter.convert(row)).toThrow(UnsupportedRow);
  });

  it.each([
    ['truncated', '{"v":"abc'],
    ['not an object', '[1]'],
    ['missing colon', '{"v" 1}'],
    ['trailing text', '{"v":1} x'],
    ['bad escape', '{"t":"\\q"}'],
    ['lone surrogate', '{"t":"\\ud800x"}'],
    ['raw tab', '{"t":"a\tb"}'],
    ['bad literal', '{"t":nul}'],
    ['bad number', '{"v":-}'],
  ])('rejects invalid JSON: %s', (_name, row) => {
    const converter = new RowConverter([
      { name: 'v', kind: num },
      { name: 't', kind: text },
    ]);
    expect(() => converter.convert(row)).toThrow(InvalidRow);
  });

  it('names the column of an invalid value', () => {
    const converter = new RowConverter([{ name: 't', kind: text }]);
    expect(() => converter.convert('{"t":"\\q"}')).toThrow(expect.objectContaining({ column: 't' }));
  });
});

describe('copyEscape', () => {
  it('escapes exactly backslash, newline, CR and tab', () => {
    expect(copyEscape('a\\b\nc\rd\te\bf')).toBe('a\\\\b\\nc\\rd\\te\bf');
    expect(copyEscape('plain')).toBe('plain');
  });
});
