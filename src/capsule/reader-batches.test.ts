import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { integrityOf, lineCapsuleText, type TestCapsule } from '../../test/setup/capsules.js';
import { LineTooLongError } from './limits.js';
import { LayoutBreak } from './line-layout-parser.js';
import { LineLayoutRows } from './reader-batches.js';
import type { CapsuleBatch } from './reader-types.js';

const capsule: TestCapsule = {
  tables: {
    a: ['{"id": 1, "s": "plain"}', '{"id": 2, "s": "ü €𝄞 multi-byte"}', '{"id": 3, "s": "\\"q\\" \\\\ \\n"}'],
    empty: [],
    b: [`{"id": 4, "long": "${'x'.repeat(70_000)}🎉"}`, '{"id": 5}'],
  },
};
const text = lineCapsuleText(capsule);
const bytes = Buffer.from(text);

/** Reads `bytes` cut into chunks of `size` bytes; returns batches, counts and per-table hashes. */
function read(input: Buffer, size: number, limit = 1 << 20, keepBytes = false) {
  const lines = new LineLayoutRows(limit, keepBytes);
  const batches: CapsuleBatch[] = [];
  for (let at = 0; at < input.length; at += size) {
    // A copy: chunks are separate buffers in the reader too.
    batches.push(...lines.push(Buffer.from(input.subarray(at, at + size))));
  }
  batches.push(...lines.end());
  const hashes = Object.fromEntries([...lines.hashes].map(([table, hash]) => [table, hash.digest('hex')]));
  return { lines, batches, hashes };
}

const rowsOf = (batches: CapsuleBatch[]) =>
  batches.flatMap((batch) => batch.rows.map((row) => [batch.table, row]));
const expected = Object.entries(capsule.tables).flatMap(([table, rows]) => rows.map((row) => [table, row]));
const trailer = integrityOf(capsule.tables) as { tables: Record<string, { rows: number; sha256: string }> };

describe('LineLayoutRows', () => {
  // 1 byte: every multi-byte character and every line is split; 3 and 7: splits at odd places; 4096: the
  // 70 KB row spans chunks and is longer than the 64 KiB buffer of a chunk's rows; 1 MiB: one chunk, tables
  // switch inside it.
  it.each([1, 3, 7, 64, 4096, 1 << 20])('chunks of %i bytes: the same rows, counts and hashes', (size) => {
    const { lines, batches, hashes } = read(bytes, size);
    expect(rowsOf(batches)).toEqual(expected);
    expect(lines.parser.state).toBe('done');
    expect(lines.rowCounts).toEqual({ a: 3, empty: 0, b: 2 });
    for (const [table, entry] of Object.entries(trailer.tables)) expect(hashes[table]).toBe(entry.sha256);
    expect(lines.cut).toBe(false);
  });

  it.each([1, 7, 4096, 1 << 20])(
    'chunks of %i bytes: each batch keeps its rows’ bytes, each followed by a newline',
    (size) => {
      // Checked after the whole file is read: a later batch must not have reused an earlier one's buffer.
      const { batches } = read(bytes, size, 1 << 20, true);
      const withBytes = batches.filter((batch) => batch.bytes !== undefined);
      // Only the 70 KB row (longer than a chunk's buffer at 4096-byte chunks) comes without them.
      expect(withBytes.length).toBeGreaterThanOrEqual(batches.length - 1);
      for (const batch of withBytes) expect(batch.bytes).toEqual(Buffer.from(`${batch.rows.join('\n')}\n`));
    },
  );

  it('the batches of one chunk share one buffer: many small tables do not each pin a chunk-sized one', () => {
    // 2,000 one-row tables in one 64 KiB chunk: a buffer per batch was 2,000 × 64 KiB (128 MB) at once.
    const many: TestCapsule = {
      tables: Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`t${i}`, [`{"i": ${i}}`]])),
    };
    const input = Buffer.from(lineCapsuleText(many));
    const { batches } = read(input, 1 << 16, 1 << 20, true);
    expect(batches).toHaveLength(2000);
    const buffers = new Set(batches.map((batch) => batch.bytes!.buffer));
    expect(buffers.size).toBeLessThanOrEqual(Math.ceil(input.length / (1 << 16)) + 1);
    for (const batch of batches) expect(batch.bytes).toEqual(Buffer.from(`${batch.rows.join('\n')}\n`));
  });

  it('batches carry no bytes unless asked for', () => {
    expect(read(bytes, 4096).batches.every((batch) => batch.bytes === undefined)).toBe(true);
  });

  it('hashes exactly the row texts, each followed by a newline', () => {
    const { hashes } = read(bytes, 10);
    const wanted = createHash('sha256');
    for (const row of capsule.tables.a!) wanted.update(`${row}\n`);
    expect(hashes.a).toBe(wanted.digest('hex'));
  });

  it('one chunk holding two tables gives one batch per table, in file order', () => {
    const { batches } = read(bytes, 1 << 20);
    expect(batches.map((batch) => [batch.table, batch.rows.length])).toEqual([
      ['a', 3],
      ['b', 2],
    ]);
  });

  it('a file cut in the middle of a row is marked cut and breaks the layout', () => {
    const cutAt = text.indexOf('"id": 5');
    expect(() => read(bytes.subarray(0, Buffer.byteLength(text.slice(0, cutAt))), 16)).toThrow(LayoutBreak);
    const lines = new LineLayoutRows(1 << 20);
    lines.push(Buffer.from(text.slice(0, cutAt)));
    expect(() => lines.end()).toThrow(LayoutBreak);
    expect(lines.cut).toBe(true);
  });

  it('a missing comma between rows names its line', () => {
    const broken = Buffer.from(text.replace('"plain"},', '"plain"}'));
    expect(() => read(broken, 5)).toThrow(/line \d+: missing comma after the previous row/);
  });

  it('a line longer than the limit stops before it is joined', () => {
    expect(() => read(bytes, 100, 1000)).toThrow(LineTooLongError);
  });

  it('a table that appears twice breaks the layout', () => {
    const twice = Buffer.from(text.replace('"b": [', '"a": ['));
    expect(() => read(twice, 50)).toThrow(/table "a" appears twice/);
  });

  it('a row that is not valid UTF-8 breaks the layout (its text would not be the bytes the hash covers)', () => {
    // 0xFF can never occur in UTF-8: the row would load as U+FFFD while the trailer's hash of the bytes
    // (the writer's, or a hostile file's) still matched. In a short row, and in a row longer than a chunk.
    for (const at of ['plain', 'xxxxxxxxxx']) {
      const bad = Buffer.from(text);
      bad[bad.indexOf(at)] = 0xff;
      for (const size of [7, 4096, 1 << 20]) expect(() => read(bad, size)).toThrow(/not valid UTF-8/);
    }
  });
});
