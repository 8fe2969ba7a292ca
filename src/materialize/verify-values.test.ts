import { describe, expect, it } from 'vitest';

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
