import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { DONE, PENDING } from './key-set.js';
import { compareKeys, runLine, RunWriter } from './sorted-runs.js';

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
