import { parse } from 'lossless-json';
import { describe, expect, it } from 'vitest';

import { hashValue } from './hash.js';

describe('hashValue', () => {
  it.each([
    ['prod-user-123', 'replay-user-', 'replay-user-3376300c1af8'],
    ['ada@example.com', 'mail-', 'mail-b5fc85e55755'],
    ['bob@example.com', 'mail-', 'mail-5ff860bf1190'],
  ])('%s with prefix %s is %s (the original tool)', (value, prefix, expected) => {
    expect(hashValue(value, prefix)).toBe(expected);
  });

  it('hashes a non-string as the JSON text the original tool printed (serde_json, numbers via f64)', () => {
    expect(hashValue(42, 'p-')).toBe(hashValue('42', 'p-'));
    expect(hashValue({ a: [1, true] }, 'p-')).toBe(hashValue('{"a":[1,true]}', 'p-'));
    const exact = parse('{"n": 19.90}') as { n: unknown };
    expect(hashValue(exact.n, 'p-')).toBe(hashValue('19.9', 'p-'));
    expect(hashValue('x')).toMatch(/^replay-[0-9a-f]{12}$/);
  });
});
