import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { frameRows, type RowFramingState } from './row-lines.js';
import { FramedRowsHash, unhashed } from './table-pieces.js';

/** Rows with commas, quotes, escaped newlines and a comma or brace at chunk edges, as JSON texts. */
function rowsOf(count: number, seed: number): string[] {
  return Array.from({ length: count }, (_, i) =>
    JSON.stringify({ i: seed * 1000 + i, t: ','.repeat((i * 7 + seed) % 5), s: 'a\n"b",}'.slice(0, i % 8) }),
  );
}

/** A piece's framed bytes, as a spooled later piece frames them (its first row after a comma). */
function framedPiece(rows: readonly string[]): Buffer {
  const state: RowFramingState = {
    table: 't',
    rows: 0,
    remainder: undefined,
    hash: unhashed,
    continued: true,
    redactor: undefined,
  };
  return frameRows(state, Buffer.from(rows.map((row) => `${row}\n`).join('')));
}

/** Splits `bytes` into chunks of the given sizes, cycling. */
function chunks(bytes: Buffer, sizes: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, k = 0; at < bytes.length; k++) {
    const size = sizes[k % sizes.length]!;
    out.push(bytes.subarray(at, at + size));
    at += size;
  }
  return out;
}

describe('FramedRowsHash', () => {
  const pieces = [rowsOf(40, 1), rowsOf(1, 2), rowsOf(25, 3)];
  const expected = createHash('sha256')
    .update(
      pieces
        .flat()
        .map((row) => `${row}\n`)
        .join(''),
    )
    .digest('hex');

  for (const sizes of [[1], [2, 3], [7], [8, 1, 9], [64], [100_000]]) {
    it(`hashes the rows of framed pieces as sha256-rows-v1 would, in chunks of ${sizes.join(',')} bytes`, () => {
      const hash = createHash('sha256');
      const rehash = new FramedRowsHash(hash);
      for (const piece of pieces) {
        for (const chunk of chunks(framedPiece(piece), sizes)) rehash.update(chunk);
        rehash.endPiece();
      }
      expect(hash.digest('hex')).toBe(expected);
    });
  }

  it('takes a first piece whose comma was dropped (no rows before it), and pieces with no rows', () => {
    const hash = createHash('sha256');
    const rehash = new FramedRowsHash(hash);
    rehash.endPiece(); // an empty piece: no bytes
    const first = framedPiece(pieces[0]!).subarray(1);
    expect(first.subarray(0, 7).toString()).toBe('\n      ');
    for (const chunk of chunks(first, [5])) rehash.update(chunk);
    rehash.endPiece();
    for (const piece of pieces.slice(1)) {
      rehash.update(framedPiece(piece));
      rehash.endPiece();
    }
    expect(hash.digest('hex')).toBe(expected);
  });

  it('refuses bytes that are not framed rows', () => {
    expect(() => new FramedRowsHash(createHash('sha256')).update(Buffer.from('{"a": 1}'))).toThrow(
      /separator/,
    );
    const cut = new FramedRowsHash(createHash('sha256'));
    cut.update(Buffer.from(',\n   '));
    expect(() => cut.endPiece()).toThrow(/inside a separator/);
  });
});
