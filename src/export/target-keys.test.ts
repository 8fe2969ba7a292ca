import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';

import { describe, expect, it } from 'vitest';

import { SpillDir, TargetKeys } from './target-keys.js';

const spillDirs = () => readdirSync(tmpdir()).filter((name) => name.startsWith('replay-env-closure-'));

async function drain(keys: TargetKeys, size: number, during?: (chunk: string[]) => void): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of keys.takePending(size)) {
    expect(chunk.length).toBeLessThanOrEqual(size);
    out.push(...chunk);
    during?.(chunk);
  }
  return out;
}

describe('TargetKeys', () => {
  for (const limit of [1_000_000, 3]) {
    it(`each key is fetched once, own keys never (${limit} keys in memory)`, async () => {
      const spill = new SpillDir();
      const before = new Set(spillDirs());
      try {
        const keys = new TargetKeys(spill, limit);
        for (const key of ['[5]', '[1]', '[2]', '[1]', '[9]', '[3]', '[5]']) keys.want(key);
        keys.own('[2]');
        keys.own('[7]');
        // a self-reference: fetching [1] finds rows wanting [4] and [1] again
        const fetched = await drain(keys, 2, (chunk) => {
          if (chunk.includes('[1]')) for (const key of ['[4]', '[1]', '[7]']) keys.want(key);
        });
        expect(fetched.sort()).toEqual(['[1]', '[3]', '[4]', '[5]', '[9]']);
        keys.want('[9]');
        expect(keys.hasPending).toBe(limit === 3); // a spilled set cannot tell; the drain removes it
        expect(await drain(keys, 2)).toEqual([]);
        const all: string[] = [];
        for await (const chunk of keys.allChunks(4)) all.push(...chunk);
        expect(all.sort()).toEqual(['[1]', '[2]', '[3]', '[4]', '[5]', '[7]', '[9]']);
        const requested: string[] = [];
        for await (const chunk of keys.requestedChunks(10)) requested.push(...chunk);
        expect(requested.sort()).toEqual(all.sort());
        expect(keys.spilled).toBe(limit === 3);
        expect(spillDirs().filter((name) => !before.has(name))).toHaveLength(limit === 3 ? 1 : 0);
      } finally {
        spill.remove();
      }
      expect(spillDirs().filter((name) => !before.has(name))).toEqual([]);
    });
  }
});
