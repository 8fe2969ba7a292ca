import { describe, expect, it } from 'vitest';

import { KeyFilter } from './key-filter.js';

describe('KeyFilter', () => {
  it('never says no to a key it holds; rarely says maybe to one it does not', () => {
    const filter = new KeyFilter();
    const key = (i: number) => Buffer.from(`xx[${i}, "ü${i}"]yy`);
    const inner = (i: number): [Buffer, number, number] => [key(i), 2, key(i).length - 2];
    for (let i = 0; i < 200_000; i += 2) filter.add(...inner(i));
    for (let i = 0; i < 200_000; i += 2) expect(filter.mayHave(...inner(i))).toBe(true);
    let maybes = 0;
    for (let i = 1; i < 200_000; i += 2) if (filter.mayHave(...inner(i))) maybes += 1;
    expect(maybes).toBeLessThan(100); // 100,000 keys in 2^25 bits: about 1 in 100,000 expected
    // the key's bytes are what counts, not where they sit in the buffer
    expect(filter.mayHave(Buffer.from('[0, "ü0"]'), 0, Buffer.byteLength('[0, "ü0"]'))).toBe(true);
  });
});
