import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { keyBytesInMemory, KeyChunk, maxRuns, SpillDir, TargetKeys } from './target-keys.js';

const key = (text: string): [Buffer, number, number] => {
  const bytes = Buffer.from(`__${text}`); // keys in the middle of a buffer, as the splitter hands them
  return [bytes, 2, bytes.length];
};
/** A repeatable random sequence, and a key picked from `pool` with it. */
function seeded(start: number, pool: readonly string[]) {
  let seed = start;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return { random, pick: () => pool[Math.floor(random() * pool.length)]! };
}
/** Reports `text` to `keys` as one of the table's own keys or as a wanted one, and records it so. */
function report(
  keys: TargetKeys,
  text: string,
  own: boolean,
  seen: { wanted: Set<string>; owned: Set<string> },
) {
  (own ? seen.owned : seen.wanted).add(text);
  if (own) keys.own(...key(text));
  else keys.want(...key(text));
}
const spillDirs = () =>
  readdirSync(tmpdir()).filter((name) => name.startsWith(`replay-env-closure-${process.pid}-`));

async function drain(keys: TargetKeys, size: number, during?: (chunk: string[]) => void): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of keys.takePending(size)) {
    const texts = [...chunk];
    expect(texts.length).toBeLessThanOrEqual(size);
    expect(JSON.parse(chunk.json().toString())).toEqual(texts.map((text) => JSON.parse(text) as unknown));
    out.push(...texts);
    during?.(texts);
  }
  return out;
}

describe('KeyChunk', () => {
  it('gives integer keys as a PostgreSQL array literal, the same keys as its JSON', () => {
    const chunk = new KeyChunk();
    expect(chunk.integerArray().toString()).toBe('{}');
    expect(chunk.json().toString()).toBe('[]');
    const texts = ['[7]', '[-2]', '[9223372036854775807]', '[0]'];
    for (const text of texts) chunk.add(...key(text));
    chunk.addLatin1('[42]'); // as read back from a run
    expect(chunk.integerArray().toString()).toBe('{7,-2,9223372036854775807,0,42}');
    expect(chunk.json().toString()).toBe('[[7],[-2],[9223372036854775807],[0],[42]]');
    chunk.add(...key('[5]')); // after json(): its closing bracket is overwritten
    expect(chunk.json().toString()).toBe('[[7],[-2],[9223372036854775807],[0],[42],[5]]');
  });
});

describe('TargetKeys', () => {
  for (const limit of [1_000_000, 3]) {
    it(`each key is fetched once, own keys never (${limit} keys in memory)`, async () => {
      const spill = new SpillDir();
      const before = new Set(spillDirs());
      try {
        const keys = new TargetKeys(spill, limit);
        for (const text of ['[5]', '[1]', '[2]', '[1]', '[9]', '[3]', '[5]']) keys.want(...key(text));
        keys.own(...key('[2]'));
        keys.own(...key('[7]'));
        // a self-reference: fetching [1] finds rows wanting [4] and [1] again
        const fetched = await drain(keys, 2, (chunk) => {
          if (chunk.includes('[1]')) for (const text of ['[4]', '[1]', '[7]']) keys.want(...key(text));
        });
        expect(fetched.sort()).toEqual(['[1]', '[3]', '[4]', '[5]', '[9]']);
        keys.want(...key('[9]'));
        expect(keys.hasPending).toBe(limit === 3); // a spilled set cannot tell; the drain removes it
        expect(await drain(keys, 2)).toEqual([]);
        const all: string[] = [];
        for await (const chunk of keys.allChunks(4)) all.push(...chunk);
        expect(all.sort()).toEqual(['[1]', '[2]', '[3]', '[4]', '[5]', '[7]', '[9]']);
        expect(keys.spilled).toBe(limit === 3);
        expect(spillDirs().filter((name) => !before.has(name))).toHaveLength(limit === 3 ? 1 : 0);
      } finally {
        spill.remove();
      }
      expect(spillDirs().filter((name) => !before.has(name))).toEqual([]);
    });
  }
});

describe('TargetKeys spilled many times', () => {
  it(`keeps at most ${maxRuns} runs on disk (merged, states kept): thousands of spills, each key right`, async () => {
    const spill = new SpillDir();
    const before = new Set(spillDirs());
    try {
      const keys = new TargetKeys(spill, 1);
      const seen = { wanted: new Set<string>(), owned: new Set<string>() };
      let most = 0;
      for (let i = 0; i < 3000; i += 1) {
        report(keys, `[${(i * 7919) % 2000}]`, i % 5 === 0, seen);
        if (i % 100 === 0) {
          const dir = spillDirs().find((name) => !before.has(name));
          if (dir) most = Math.max(most, readdirSync(join(tmpdir(), dir)).length);
        }
      }
      expect(most).toBeGreaterThan(maxRuns / 2);
      expect(most).toBeLessThanOrEqual(maxRuns + 1);
      const fetched = await drain(keys, 500);
      expect(new Set(fetched).size).toBe(fetched.length);
      expect(fetched.sort()).toEqual([...seen.wanted].filter((text) => !seen.owned.has(text)).sort());
    } finally {
      spill.remove();
    }
  });
});

describe('TargetKeys drained for the last time', () => {
  it('fetches each spilled key once and writes no run of the keys done', async () => {
    const spill = new SpillDir();
    const before = new Set(spillDirs());
    try {
      const keys = new TargetKeys(spill, 3);
      const texts = Array.from({ length: 40 }, (_, i) => `[${(i * 7) % 25}]`);
      for (const text of texts) keys.want(...key(text));
      keys.own(...key('[3]'));
      const dir = spillDirs().find((name) => !before.has(name))!;
      expect(readdirSync(join(tmpdir(), dir)).length).toBeGreaterThan(1);
      const fetched: string[] = [];
      for await (const chunk of keys.takePending(4, true)) fetched.push(...chunk);
      const expected = [...new Set(texts)].filter((text) => text !== '[3]');
      expect(fetched.sort()).toEqual(expected.sort());
      expect(keys.hasPending).toBe(false);
      // The merged inputs are removed and no run is written: not a merged one, nor one of memory's keys.
      expect(readdirSync(join(tmpdir(), dir))).toEqual([]);
      expect(keys.spilled).toBe(false);
    } finally {
      spill.remove();
    }
  });
});

describe('TargetKeys under random wants and owns', () => {
  for (const limit of [1_000_000, 17, 1]) {
    it(`never fetches a key twice or an owned one; every wanted key ends fetched or owned (${limit} in memory)`, async () => {
      const { random, pick } = seeded(
        7,
        Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? `["é✓ ${i}", ${i}]` : `[${i}]`)),
      );
      const spill = new SpillDir();
      try {
        const keys = new TargetKeys(spill, limit);
        const wanted = new Set<string>();
        const owned = new Set<string>();
        for (let i = 0; i < 400; i += 1) {
          report(keys, pick(), random() < 0.2, { wanted, owned });
        }
        const ownedBefore = new Set(owned);
        const fetched = await drain(keys, 7, () => {
          // fetched rows reference more keys (a self-reference) and report keys of their own
          for (let i = 0; i < 5; i += 1) {
            const text = pick();
            wanted.add(text);
            keys.want(...key(text));
          }
          const text = pick();
          owned.add(text);
          keys.own(...key(text));
        });
        expect(new Set(fetched).size).toBe(fetched.length);
        expect(fetched.filter((text) => ownedBefore.has(text))).toEqual([]);
        expect([...wanted].filter((text) => !fetched.includes(text) && !owned.has(text))).toEqual([]);
        expect(keys.hasPending).toBe(false);
        const all: string[] = [];
        for await (const chunk of keys.allChunks(11)) all.push(...chunk);
        expect(all.sort()).toEqual([...new Set([...wanted, ...owned])].sort());
      } finally {
        spill.remove();
      }
    });
  }
});

describe('TargetKeys fetched early while keys arrive and spill (closure.ts fetchEarly)', () => {
  for (const limit of [1_000_000, 40, 8]) {
    it(`early chunks and the final drain never fetch a key twice or an owned one (${limit} in memory)`, async () => {
      const { pick } = seeded(
        11,
        Array.from({ length: 500 }, (_, i) => (i % 4 === 0 ? `["ü ${i}"]` : `[${i}]`)),
      );
      const spill = new SpillDir();
      try {
        const keys = new TargetKeys(spill, limit);
        const wanted = new Set<string>();
        const owned = new Set<string>();
        for (let i = 0; i < 100; i += 1) {
          const text = pick();
          owned.add(text);
          keys.own(...key(text));
        }
        const fetched: string[] = [];
        let early = 0;
        for (let i = 0; i < 3000; i += 1) {
          const text = pick();
          wanted.add(text);
          keys.want(...key(text));
          if (keys.pendingInMemory >= 5) {
            const chunk = keys.takeChunk(5);
            early += chunk.length;
            fetched.push(...chunk);
          }
        }
        fetched.push(...(await drain(keys, 7)));
        expect(early).toBeGreaterThan(100); // spilled sets too fetch early
        expect(new Set(fetched).size).toBe(fetched.length);
        expect(fetched.filter((text) => owned.has(text))).toEqual([]);
        expect([...wanted].filter((text) => !fetched.includes(text) && !owned.has(text))).toEqual([]);
        expect(keys.hasPending).toBe(false);
        expect(keys.spilled).toBe(limit < 500);
      } finally {
        spill.remove();
      }
    });
  }
});

describe('TargetKeys fetched early, then drained for the last time', () => {
  for (const limit of [150, 40, 8, 1]) {
    it(`a key wanted again after it spilled, done or pending, is fetched once (${limit} in memory)`, async () => {
      const { random, pick } = seeded(
        13,
        Array.from({ length: 400 }, (_, i) => (i % 5 === 0 ? `["ß ${i}", ${i}]` : `[${i}]`)),
      );
      const spill = new SpillDir();
      try {
        const keys = new TargetKeys(spill, limit);
        const wanted = new Set<string>();
        const owned = new Set<string>();
        const fetched: string[] = [];
        for (let i = 0; i < 2500; i += 1) {
          report(keys, pick(), random() < 0.1, { wanted, owned });
          if (keys.pendingInMemory >= 3 && random() < 0.5) fetched.push(...keys.takeChunk(3));
        }
        const ownedEarly = new Set(owned);
        const fetchedEarly = new Set(fetched);
        for await (const chunk of keys.takePending(6, true)) fetched.push(...chunk);
        expect(keys.spilled).toBe(false);
        expect(keys.hasPending).toBe(false);
        expect(new Set(fetched).size).toBe(fetched.length);
        expect(fetched.filter((text) => ownedEarly.has(text) && !fetchedEarly.has(text))).toEqual([]);
        expect([...wanted].filter((text) => !fetched.includes(text) && !owned.has(text))).toEqual([]);
      } finally {
        spill.remove();
      }
    });
  }
});

describe('TargetKeys with keys longer than a run block (64 KiB)', () => {
  it('spills, merges and fetches a 100,000-byte key once', async () => {
    const spill = new SpillDir();
    try {
      const keys = new TargetKeys(spill, 1);
      const long = `["${'é'.repeat(50_000)}"]`;
      for (const text of ['[1]', long, '[2]', long, '[1]']) keys.want(...key(text));
      keys.own(...key('[2]'));
      expect(keys.spilled).toBe(true);
      const fetched = await drain(keys, 2);
      expect(fetched.sort()).toEqual(['[1]', long].sort());
    } finally {
      spill.remove();
    }
  });
});

describe('TargetKeys bounded by key bytes, whatever the count', () => {
  it('spills once its keys pass keyBytesInMemory, keeps each key once', async () => {
    const spill = new SpillDir();
    try {
      const keys = new TargetKeys(spill, 1_000_000);
      // 1 MiB keys: the count limit is far away, the byte bound is reached at the 8th.
      const texts = Array.from({ length: 12 }, (_, i) => `["${String(i).padStart(1 << 20, 'k')}"]`);
      for (const [i, text] of texts.entries()) {
        keys.want(...key(text));
        expect(keys.spilled).toBe((i + 1) * (text.length + 5) > keyBytesInMemory);
      }
      for (const text of texts.slice(0, 3)) keys.want(...key(text)); // wanted again after the spill
      const fetched = await drain(keys, 5);
      expect(fetched.sort()).toEqual([...texts].sort());
    } finally {
      spill.remove();
    }
  });
});
