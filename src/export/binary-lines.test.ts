import { describe, expect, it } from 'vitest';

import { BinaryCopyLines } from './binary-lines.js';

const int16 = (value: number) => {
  const buf = Buffer.alloc(2);
  buf.writeInt16BE(value);
  return buf;
};
const int32 = (value: number) => {
  const buf = Buffer.alloc(4);
  buf.writeInt32BE(value);
  return buf;
};
const header = (extension = Buffer.alloc(0)) =>
  Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), int32(0), int32(extension.length), extension]);
/** A row of text columns as binary COPY writes it (null: NULL). */
const row = (columns: (string | null)[]) =>
  Buffer.concat([
    int16(columns.length),
    ...columns.flatMap((column) =>
      column === null ? [int32(-1)] : [int32(Buffer.byteLength(column)), Buffer.from(column)],
    ),
  ]);
const trailer = int16(-1);

/** Feeds `payload` in runs of `size` bytes, each in its own buffer after `gap` bytes of (message) header. */
function convert(payload: Buffer, size: number, gap = 0, columns = 3): string {
  const lines = new BinaryCopyLines({ columns, table: 't' });
  const out: Buffer[] = [];
  for (let at = 0; at < payload.length; at += size) {
    const run = payload.subarray(at, at + size);
    const chunk = Buffer.concat([Buffer.alloc(gap, 0x64), run]);
    const end = lines.convert(chunk, gap, chunk.length, 0);
    out.push(Buffer.from(chunk.subarray(0, end)));
  }
  expect(lines.ended).toBe(true);
  return Buffer.concat(out).toString('utf8');
}

describe('BinaryCopyLines', () => {
  const rows = [
    ['{"a":"é✓ \\"q\\" \\\\"}', '[1,"x"]', null],
    ['\u0004{"b":[]}', null, '["k"]'],
    ['{}', '[2]', '[3]'],
  ];
  const payload = Buffer.concat([header(), ...rows.map(row), trailer]);
  const expected = rows.map((columns) => `${columns.map((c) => c ?? '').join('\x02')}\n`).join('');

  it('writes each row as its columns joined by 0x02, NULL empty, one line per row', () => {
    expect(convert(payload, payload.length)).toBe(expected);
  });

  it('gives the same lines however the payload is cut, with or without headers between the runs', () => {
    for (const size of [1, 2, 3, 5, 7, 19, 20, 64])
      for (const gap of [0, 1, 5]) expect(convert(payload, size, gap), `${size}/${gap}`).toBe(expected);
  });

  it('skips a header extension', () => {
    const withExtension = Buffer.concat([header(Buffer.from('ext!')), row(['{}']), trailer]);
    expect(convert(withExtension, 3, 0, 1)).toBe('{}\n');
  });

  it('one column, many long rows: every byte in order', () => {
    const long = Array.from({ length: 50 }, (_, i) => [`{"i":${i},"s":"${'ü'.repeat(i * 37)}"}`]);
    const stream = Buffer.concat([header(), ...long.map(row), trailer]);
    const lines = long.map(([text]) => `${text}\n`).join('');
    for (const size of [1, 13, 1000, stream.length]) expect(convert(stream, size, 0, 1)).toBe(lines);
  });

  it('refuses what is not binary COPY output, and output after the trailer', () => {
    expect(() =>
      new BinaryCopyLines({ columns: 1, table: 't' }).convert(
        Buffer.from('{"a":1}\x02[1]\n...........'),
        0,
        27,
        0,
      ),
    ).toThrow(/PGCOPY signature/);
    const after = Buffer.concat([header(), trailer, row(['{}'])]);
    expect(() => new BinaryCopyLines({ columns: 1, table: 't' }).convert(after, 0, after.length, 0)).toThrow(
      /after its trailer/,
    );
  });

  it('has not ended before its trailer', () => {
    const lines = new BinaryCopyLines({ columns: 1, table: 't' });
    const partial = Buffer.concat([header(), row(['{}'])]);
    lines.convert(partial, 0, partial.length, 0);
    expect(lines.ended).toBe(false);
  });

  it('refuses a row of another width, naming the table (a rowSql that closed its parentheses)', () => {
    const wider = Buffer.concat([header(), row(['{}']), row(['{}', '{}']), trailer]);
    const lines = new BinaryCopyLines({ columns: 1, table: 'orders' });
    expect(() => lines.convert(wider, 0, wider.length, 0)).toThrow(
      'tables[orders]: its query returned 2 columns, not 1; rowSql must be one expression, one JSON object per row',
    );
  });
});
