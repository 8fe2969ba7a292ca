import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { describe, expect, it } from 'vitest';

import { KeySplitter } from './key-splitter.js';

async function split(chunks: string[], keys: number) {
  const seen: Array<[number, string]> = [];
  let out = '';
  await pipeline(
    Readable.from(chunks.map((chunk) => Buffer.from(chunk))),
    new KeySplitter(keys, (index, buf, from, to) => seen.push([index, buf.toString('utf8', from, to)])),
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        out += chunk.toString();
        callback();
      },
    }),
  );
  return { out, seen };
}

describe('KeySplitter', () => {
  it('strips key columns, hands on non-empty keys, skips a repeat of the previous key', async () => {
    const { out, seen } = await split(
      ['{"a":1}\x02[1]\x02[7, "x"]\n{"a":2}\x02[1]\x02\n', '{"a":3}\x02[2]\x02[7, "x"]\n'],
      2,
    );
    expect(out).toBe('{"a":1}\n{"a":2}\n{"a":3}\n');
    expect(seen).toEqual([
      [0, '[1]'],
      [1, '[7, "x"]'],
      [0, '[2]'],
      // [7, "x"] again: equal to the last key seen for this foreign key, not handed on twice
    ]);
  });

  it('joins rows and keys split across chunks anywhere (multi-byte text included)', async () => {
    const line = '{"n":"é✓"}\x02["é✓", 2]\n';
    const bytes = Buffer.from(line + line.replace('2]', '3]'));
    const chunks = [...bytes].map((byte) => String.fromCharCode(byte));
    const seen: string[] = [];
    let out = Buffer.alloc(0);
    await pipeline(
      Readable.from(chunks.map((c) => Buffer.from([c.charCodeAt(0)]))),
      new KeySplitter(1, (_i, buf, from, to) => seen.push(buf.toString('utf8', from, to))),
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          out = Buffer.concat([out, chunk]);
          callback();
        },
      }),
    );
    expect(out.toString('utf8')).toBe('{"n":"é✓"}\n{"n":"é✓"}\n');
    expect(seen).toEqual(['["é✓", 2]', '["é✓", 3]']);
  });

  it('a row longer than many chunks: its pieces joined once, its keys whole', async () => {
    const long = `{"s":"${'é'.repeat(300_000)}"}`;
    const chunks = [...`${long}\x02[1]\x02["k"]\n{"a":2}\x02[2]\n`.match(/[^]{1,997}/gu)!];
    expect(chunks.length).toBeGreaterThan(300);
    const { out, seen } = await split(chunks, 2);
    expect(out).toBe(`${long}\n{"a":2}\n`);
    expect(seen).toEqual([
      [0, '[1]'],
      [1, '["k"]'],
      [0, '[2]'],
    ]);
  });

  it('refuses output that ends mid-row', async () => {
    await expect(split(['{"a":1}\x02[1]'], 1)).rejects.toThrow(/middle of a row/);
  });

  it('with no key columns, hands on whole rows only, however the chunks are cut', async () => {
    const chunks: string[] = [];
    await pipeline(
      Readable.from(['{"a":1}\n{"b"', ':2}\n{"c":3', '}\n'].map((chunk) => Buffer.from(chunk))),
      new KeySplitter(0, () => {}),
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          chunks.push(chunk.toString());
          callback();
        },
      }),
    );
    expect(chunks.join('')).toBe('{"a":1}\n{"b":2}\n{"c":3}\n');
    for (const chunk of chunks) expect(chunk.endsWith('\n')).toBe(true);
  });

  it('passes rows through unchanged when there are no key columns', async () => {
    expect((await split(['{"a":1}\n{"b":2}\n'], 0)).out).toBe('{"a":1}\n{"b":2}\n');
  });
});
