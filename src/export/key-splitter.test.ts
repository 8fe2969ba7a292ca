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

  it('moves rows together in place: any cut of many rows with and without keys gives the same rows and keys', async () => {
    const lines: string[] = [];
    const rows: string[] = [];
    const keys: Array<[number, string]> = [];
    for (let i = 0; i < 400; i += 1) {
      const row = `{"n":${i},"s":"${'x'.repeat(i % 37)}é"}`;
      rows.push(`${row}\n`);
      const first = i % 3 === 0 ? '' : `[${i}]`;
      const second = i % 5 === 0 ? '' : `["k${i}", ${i}]`;
      // Every seventh row has no key columns at all (a table with no outgoing foreign key).
      const keyed = i % 7 !== 0;
      if (keyed && first) keys.push([0, first]);
      if (keyed && second) keys.push([1, second]);
      lines.push(keyed ? `${row}\x02${first}\x02${second}\n` : `${row}\n`);
    }
    const bytes = Buffer.from(lines.join(''));
    for (const size of [1, 7, 64, 1000, bytes.length]) {
      const chunks: string[] = [];
      for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.toString('latin1', at, at + size));
      const seen: Array<[number, string]> = [];
      let out = Buffer.alloc(0);
      await pipeline(
        Readable.from(chunks.map((chunk) => Buffer.from(chunk, 'latin1'))),
        new KeySplitter(2, (index, buf, from, to) => seen.push([index, buf.toString('utf8', from, to)])),
        new Writable({
          write(chunk: Buffer, _encoding, callback) {
            expect(chunk.at(-1)).toBe(0x0a); // whole rows only
            out = Buffer.concat([out, chunk]);
            callback();
          },
        }),
      );
      expect(out.toString('utf8')).toBe(rows.join(''));
      expect(seen).toEqual(keys);
    }
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

  it('counts the rows it passes on, with and without key columns', async () => {
    for (const [keys, line] of [
      [0, '{"a":"x"}\n'],
      [1, '{"a":"x"}\x02[1]\n'],
      [2, '{"a":"x"}\x02\x02["k"]\n'],
    ] as const) {
      const splitter = new KeySplitter(keys, () => {});
      const text = line.repeat(1000);
      const chunks = text.match(/[^]{1,61}/gu)!.map((chunk) => Buffer.from(chunk));
      let out = '';
      await pipeline(
        Readable.from(chunks),
        splitter,
        new Writable({
          write(chunk: Buffer, _encoding, callback) {
            out += chunk.toString();
            callback();
          },
        }),
      );
      expect(splitter.rows).toBe(1000);
      expect(out).toBe('{"a":"x"}\n'.repeat(1000));
    }
  });
});
