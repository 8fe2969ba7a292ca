import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { DONE, PENDING } from './key-set.js';
import { compareKeys, runLine, RunWriter, sortEntriesByKey } from './sorted-runs.js';

const dir = mkdtempSync(join(tmpdir(), 'sorted-runs-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a run written from key bytes', () => {
  it('is the run written from key strings: the same order and the same bytes', () => {
    const keys = [
      '[12]',
      '[1]',
      '[-3]',
      '["é"]',
      '["e"]',
      '["a\\"b"]',
      '[1,2]',
      '[1, 2]',
      `["${'x'.repeat(70_000)}"]`,
    ];
    const arena = Buffer.from(keys.join(''));
    const bounds: [number, number][] = [];
    for (let at = 0, i = 0; i < keys.length; at += Buffer.byteLength(keys[i]!), i += 1)
      bounds.push([at, at + Buffer.byteLength(keys[i]!)]);
    const order = bounds
      .map((_, index) => index)
      .sort((a, b) => compareKeys(arena, bounds[a]![0], bounds[a]![1], bounds[b]![0], bounds[b]![1]));
    const fromBytes = join(dir, 'bytes');
    const bytesWriter = new RunWriter(fromBytes);
    for (const index of order) bytesWriter.addKey(arena, ...bounds[index]!, index % 2 === 0 ? DONE : PENDING);
    bytesWriter.close();
    // The string path (latin1: one character per byte) sorted by JavaScript's string order.
    const lines = bounds.map(([from, to], index) =>
      runLine(arena.toString('latin1', from, to), index % 2 === 0 ? DONE : PENDING),
    );
    const fromStrings = join(dir, 'strings');
    const stringsWriter = new RunWriter(fromStrings);
    for (const line of lines.sort()) stringsWriter.add(line);
    stringsWriter.close();
    expect(readFileSync(fromBytes).equals(readFileSync(fromStrings))).toBe(true);
    expect(readFileSync(fromBytes, 'latin1').split('\n')[0]).toBe('["a\\"b"]\tP');
  });
});

describe('entries sorted by their keys (a spill)', () => {
  it('are in compareKeys order: varied lengths, multi-byte text, long shared prefixes, many ties per byte', () => {
    let seed = 5;
    // xorshift32: exact in integers (an LCG in doubles loses bits and can cycle early)
    const random = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 2 ** 32;
    };
    const long = 'é'.repeat(3_000);
    const texts = new Set<string>();
    for (let i = 0; i < 30_000; i += 1) {
      const r = random();
      if (r < 0.5) texts.add(`[${Math.floor(random() * 1_000_000) - 1_000}]`);
      else if (r < 0.7) texts.add(`["${long}${Math.floor(random() * 200)}"]`);
      else if (r < 0.9) texts.add(`["ü${Math.floor(random() * 50_000)}", ${i % 7}]`);
      else texts.add(`[${'1'.repeat(1 + Math.floor(random() * 40))}]`);
    }
    // An arena as key-set.ts lays it out: state byte, key length (UInt32LE), key bytes.
    const entries = [...texts].map((text) => Buffer.from(text));
    const arena = Buffer.alloc(entries.reduce((sum, key) => sum + 5 + key.length, 0));
    const offsets: number[] = [];
    let at = 0;
    for (const key of entries) {
      offsets.push(at);
      arena.writeUInt32LE(key.length, at + 1);
      at = 5 + at + key.copy(arena, at + 5);
    }
    const keyOf = (offset: number): [number, number] => [
      offset + 5,
      offset + 5 + arena.readUInt32LE(offset + 1),
    ];
    const expected = [...offsets].sort((a, b) => compareKeys(arena, ...keyOf(a), ...keyOf(b)));
    const sorted = Uint32Array.from(offsets);
    sortEntriesByKey(arena, sorted);
    expect([...sorted]).toEqual(expected);
    const tiny = Uint32Array.from(offsets.slice(0, 3));
    sortEntriesByKey(arena, tiny);
    expect([...tiny]).toEqual(
      offsets.slice(0, 3).sort((a, b) => compareKeys(arena, ...keyOf(a), ...keyOf(b))),
    );
  });
});
