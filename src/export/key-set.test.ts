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
});
