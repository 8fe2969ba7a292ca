import { describe, expect, it } from 'vitest';

import { CapsuleError } from '../errors.js';
import type { TableInfo } from '../postgres/catalog.js';
import { SentDigest } from './verify-values.js';

const info = { columns: [{ name: 'id', generated: false }] } as unknown as TableInfo;

describe('SentDigest.addBatch', () => {
  // As the capsule reader gives them: canonical rows (multi-byte, escapes), a compact row (canonicalised
  // first), and a row the subject rewrite changed (its text is not its bytes).
  const rows = [
    '{"id": 1, "s": "plain"}',
    '{"id": 2, "s": "ü €𝄞 multi-byte"}',
    '{"id":3,"s":"compact"}',
    '{"id": 4, "owner": "old"}',
    '{"id": 5, "s": "\\"q\\" \\\\ \\n"}',
  ];
  const texts = rows.map((row) => row.replace('"old"', '"new"'));
  const bytes = Buffer.from(`${rows.join('\n')}\n`);
  const oneByOne = new SentDigest(info);
  for (const text of texts) oneByOne.add(text);

  it('hashing from the batch bytes gives the digest of the texts sent, row by row', () => {
    const fromBytes = new SentDigest(info);
    fromBytes.addBatch(rows, texts, bytes);
    expect(fromBytes.digest()).toEqual(oneByOne.digest());
  });

  it('without bytes it hashes the texts', () => {
    const fromTexts = new SentDigest(info);
    fromTexts.addBatch(rows, texts, undefined);
    expect(fromTexts.digest()).toEqual(oneByOne.digest());
  });

  it('the bytes are what is hashed for an unchanged row (not its text again)', () => {
    // A batch whose bytes disagree with its rows must change the digest: proof the bytes path is taken.
    const other = new SentDigest(info);
    other.addBatch(rows, texts, Buffer.from(`${rows.join('\n').replace('plain', 'plaiN')}\n`));
    expect(other.digest()).not.toEqual(oneByOne.digest());
  });
});

describe('SentDigest.addBytes', () => {
  // Canonical rows, compact rows (canonicalised first: one of them with `": ` only in a later row, which
  // must not make it look canonical), multi-byte text, escapes.
  const rows = [
    '{"id":1,"s":"compact first"}',
    '{"id": 2, "s": "plain"}',
    '{"id": 3, "s": "ü €𝄞 multi-byte"}',
    '{"id":4,"s":"compact"}',
    '{"id":5,"s":"a\\": b"}',
    '{"id": 6, "s": "\\"q\\" \\\\ \\n"}',
  ];
  const bytes = Buffer.from(`${rows.join('\n')}\n`);

  it('gives the digest of adding each row text', () => {
    const oneByOne = new SentDigest(info);
    for (const row of rows) oneByOne.add(row);
    const fromBytes = new SentDigest(info);
    fromBytes.addBytes(bytes);
    expect(fromBytes.digest()).toEqual(oneByOne.digest());
  });

  it('canonicalises every row when the table has generated columns (left out on both sides)', () => {
    const generated = {
      columns: [
        { name: 'id', generated: false },
        { name: 's', generated: true },
      ],
    } as unknown as TableInfo;
    const oneByOne = new SentDigest(generated);
    for (const row of rows) oneByOne.add(row);
    const fromBytes = new SentDigest(generated);
    fromBytes.addBytes(bytes);
    expect(fromBytes.digest()).toEqual(oneByOne.digest());
    const withColumn = new SentDigest(info);
    withColumn.addBytes(bytes);
    expect(withColumn.digest()).not.toEqual(fromBytes.digest());
  });
});

describe('SentDigest, a row that is not JSON', () => {
  const named = { name: 'notes', columns: [{ name: 'id', generated: false }] } as unknown as TableInfo;

  it.each([
    ['addBytes', (digest: SentDigest) => digest.addBytes(Buffer.from('{"id":1}\n{"id":2} x\n{"id":3}\n'))],
    ['add', (digest: SentDigest) => ['{"id":1}', '{"id":2,'].forEach((row) => digest.add(row))],
  ])('%s: the capsule is corrupt at that row (one line, not an internal error)', (_name, feed) => {
    const digest = new SentDigest(named);
    expect(() => feed(digest)).toThrow(CapsuleError);
    expect(() => feed(new SentDigest(named))).toThrow(/^tables\[notes\] row 2: invalid JSON: /);
  });
});
