import { describe, expect, it } from 'vitest';

import { DONE, KeySet, PENDING } from './key-set.js';

describe('KeySet', () => {
  it('holds each key once through growth; a key only moves from pending to done', () => {
    const set = new KeySet();
    const bytes = (i: number) => Buffer.from(i % 2 ? `[${i}]` : `["ü${i}", ${i}]`);
    const added = (from: number, step: number, state: typeof PENDING | typeof DONE) => {
      let count = 0;
      for (let i = from; i < 100_000; i += step) if (set.add(bytes(i), 0, bytes(i).length, state)) count += 1;
      return count;
    };
    expect(added(0, 1, PENDING)).toBe(100_000);
    expect(added(0, 2, DONE)).toBe(0);
    expect(added(0, 1, PENDING)).toBe(0);
    expect(set.size).toBe(100_000);
    expect(set.pendingCount).toBe(50_000);
    const seen: string[] = [];
    for (let at = 0; at < set.end;) {
      const entry = set.entryAt(at);
      if (entry.state === PENDING) seen.push(entry.arena.toString('utf8', entry.from, entry.to));
      at = entry.next;
    }
    expect(seen).toHaveLength(50_000);
    expect(seen[0]).toBe('[1]');
    expect(seen.at(-1)).toBe('[99999]');
    // the same bytes inside a larger buffer are the same key; a prefix is not
    const inner = Buffer.from('xx[1]yy');
    expect(set.add(inner, 2, 5, PENDING)).toBe(false);
    expect(set.add(inner, 2, 4, PENDING)).toBe(true);
  });

  it('keeps its arena through clear(): entries read before it can be added again, in arena order', () => {
    const set = new KeySet();
    const texts = Array.from({ length: 5000 }, (_, i) =>
      i % 3 ? `[${i}]` : `["${'ß'.repeat(i % 40)}${i}"]`,
    );
    for (const text of texts) set.add(Buffer.from(text), 0, Buffer.byteLength(text), PENDING);
    const arena = set.arena;
    const every7th: number[] = [];
    for (let at = 0, i = 0; at < set.end; at = set.entryAt(at).next, i += 1)
      if (i % 7 === 0) every7th.push(at);
    set.clear();
    expect(set.size).toBe(0);
    expect(set.find(Buffer.from('[1]'), 0, 3)).toBe(-1);
    for (const at of every7th) {
      const { from, to } = { from: at + 5, to: at + 5 + arena.readUInt32LE(at + 1) };
      expect(set.add(arena, from, to, PENDING)).toBe(true);
    }
    expect(set.arena).toBe(arena);
    const kept: string[] = [];
    for (let at = 0; at < set.end; at = set.entryAt(at).next) {
      const entry = set.entryAt(at);
      kept.push(entry.arena.toString('utf8', entry.from, entry.to));
    }
    expect(kept).toEqual(texts.filter((_, i) => i % 7 === 0));
    for (const text of kept)
      expect(set.find(Buffer.from(text), 0, Buffer.byteLength(text))).toBeGreaterThanOrEqual(0);
  });
});
