import { describe, expect, it } from 'vitest';

import { ByteRun } from '../capsule/byte-run.js';
import { type CopyColumn, RowConverter } from './json-to-copy.js';
import { ByteRowConverter } from './json-to-copy-bytes.js';

// One column of each kind the converter knows, and a name JSON must escape.
const columns: CopyColumn[] = [
  { name: 'id', kind: { type: 'scalar', numeric: true } },
  { name: 's', kind: { type: 'scalar', numeric: false } },
  { name: 'j', kind: { type: 'json' } },
  { name: 'a', kind: { type: 'array', element: 'scalar', numeric: false } },
  { name: 'n', kind: { type: 'array', element: 'scalar', numeric: true } },
  { name: 'ja', kind: { type: 'array', element: 'json', numeric: false } },
  { name: 'we"ird\\ké', kind: { type: 'scalar', numeric: false } },
];
const skipped = ['gen'];

type Outcome = { line: string } | { error: string; name: string; message: string };

/** What RowConverter makes of each row: its line (with the newline), or its error. */
function byText(rows: readonly string[]): Outcome[] {
  return rows.map((row) => {
    try {
      return { line: `${new RowConverter(columns, skipped).convert(row)}\n` };
    } catch (error) {
      return { error: 'thrown', name: (error as Error).name, message: (error as Error).message };
    }
  });
}

/** The same rows as one batch of bytes through ByteRowConverter; a row that throws is left out of the bytes. */
function byBytes(rows: readonly string[]): Outcome[] {
  const converter = new ByteRowConverter(columns, skipped);
  const bytes = Buffer.from(rows.map((row) => `${row}\n`).join(''));
  converter.batch(bytes);
  const out = new ByteRun(16);
  const outcomes: Outcome[] = [];
  let from = 0;
  for (const _row of rows) {
    const end = bytes.indexOf(0x0a, from);
    const before = out.length;
    try {
      converter.convert(from, end, out);
      outcomes.push({ line: out.bytes().toString('utf8', before) });
    } catch (error) {
      expect(out.length).toBe(before); // nothing half-written
      outcomes.push({ error: 'thrown', name: (error as Error).name, message: (error as Error).message });
    }
    from = end + 1;
  }
  return outcomes;
}

const rows = [
  '{"id": 1, "s": "plain", "j": {"k": "v"}, "a": ["x", "y"], "n": [1, 2], "ja": [{"a": 1}]}',
  '{"id": -12.50, "s": "caf\\u00e9 \\ud83c\\udf89 \\"q\\" \\\\ \\/ \\t\\n\\r\\b\\f", "j": "s\\\\t"}',
  '{"s": "emoji 🎉 ü raw", "id": 3}',
  '{"j": null, "s": null, "id": null, "a": null}',
  '{}',
  '{ "id" : 4 , "s" : "spaced" }',
  '{"id": 5, "a": ["a,b", "c\\"d", null, "e\\\\f", "", "NULL", "{x}"], "n": [[1, 2], [3, null]]}',
  '{"id": 6, "a": "{a,b}", "ja": [{"x": "y\\\\z"}, null, [1]]}',
  '{"id": 7, "s": "first", "s": "second", "j": {"a": 1}, "j": null}',
  '{"id": 8, "gen": {"skipped": [1, "x"]}, "s": "after skipped"}',
  '{"id": 9, "we\\"ird\\\\ké": "odd key"}',
  '{"id": 10, "s": true, "j": false, "a": []}',
  '{"id": 1e5}',
  '{"id": 11, "unknown": 1}',
  '{"id": 12, "s": "tab\there"}',
  '{"id": 13, "s": "nul \\u0000"}',
  '{"id": 14, "s": {"object": 1}}',
  '{"id": 15, "s": "x",}',
  '{"id": 16} trailing',
  '{"id": 17, "s": "unterminated}',
  '{"id": 18, "a": [{"o": 1}]}',
  '{"id": 19, "a": [[]]}',
  '{"id": 20, "s": "\\ud800 lone"}',
  '{"id": 21, "s": "bad \\x escape"}',
  '{"id": 22, "s": 12}',
  '{"id": 23, "j": {"deep": [{"x": "\\"}\\""}, "]"]}, "s": "after"}',
  '{"id": 24, "s": "ctl \u0001"}',
  '{"id": nul}',
  '{"i\\u0064": 25}',
  '[1]',
  '{"id": 26, "s": "x" "j": 1}',
  '{"id": 27, "j": {"unclosed": [1, 2}',
  '{"id": 28, "n": [1e3]}',
  '{"id": -}',
  '{"id": 29.}',
  `{"id": 30, "j": ${JSON.stringify({ long: 'é\\"'.repeat(40_000) })}}`,
];

describe('ByteRowConverter', () => {
  it('gives each row the line or the error RowConverter gives it', () => {
    expect(byBytes(rows)).toEqual(byText(rows));
    // Some rows take each way: both are exercised.
    expect(byText(rows).filter((outcome) => 'line' in outcome).length).toBeGreaterThan(12);
    expect(byText(rows).filter((outcome) => 'error' in outcome).length).toBeGreaterThan(12);
  });

  it('agrees with RowConverter on 20,000 random rows, and on them cut or altered at random', () => {
    let seed = 20261204;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const pieces = [
      'a',
      'é',
      '🎉',
      '\\"',
      '\\\\',
      '\\n',
      '\\t',
      '\\u00e9',
      '\\ud83c\\udf89',
      ',',
      '{',
      ']',
      ' ',
      '"',
    ];
    const string = () => {
      let value = '';
      const length = Math.floor(random() * 8);
      for (let k = 0; k < length; k++) value += pick(pieces.slice(0, 11));
      return `"${value}"`;
    };
    const number = () => pick(['0', '-1', '12.50', '1e3', '007', '-0.5']);
    const value = (column: CopyColumn): string => {
      if (random() < 0.1) return 'null';
      switch (column.kind.type) {
        case 'json':
          return pick([string(), number(), `{"k": ${string()}, "l": [${number()}, ${string()}]}`, 'true']);
        case 'array':
          return column.kind.numeric
            ? `[${number()}, [${number()}]]`
            : `[${string()}, ${random() < 0.2 ? '{"x": 1}' : string()}]`;
        default:
          return column.kind.numeric ? number() : pick([string(), string(), 'true', number()]);
      }
    };
    const mutate = (row: string) => {
      const at = Math.floor(random() * row.length);
      switch (Math.floor(random() * 4)) {
        case 0:
          return row.slice(0, at);
        case 1:
          return row.slice(0, at) + row.slice(at + 1);
        case 2:
          return row.slice(0, at) + pick(pieces) + row.slice(at);
        default:
          return row.slice(0, at) + pick(['\u0001', '\t', '\\u0000', 'null', ':']) + row.slice(at);
      }
    };
    const generated: string[] = [];
    for (let n = 0; n < 20_000; n++) {
      const keys = columns.filter(() => random() < 0.7);
      if (random() < 0.3) keys.reverse();
      const row = `{${keys.map((column) => `${JSON.stringify(column.name)}: ${value(column)}`).join(', ')}}`;
      generated.push(random() < 0.25 ? mutate(row) : row);
    }
    // Batches of 500 rows, as the reader hands them over.
    for (let from = 0; from < generated.length; from += 500) {
      const batch = generated.slice(from, from + 500).filter((row) => !row.includes('\n'));
      expect(byBytes(batch)).toEqual(byText(batch));
    }
  });

  it('does not look past its row for a backslash or a closing quote', () => {
    // The second row's backslash and quote must not make the first row's string look escaped or closed.
    const batch = ['{"id": 1, "s": "no backslash here"}', '{"id": 2, "s": "has \\\\ one"}', '{"s": "x'];
    expect(byBytes(batch)).toEqual(byText(batch));
  });
});
