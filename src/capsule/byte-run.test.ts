import { describe, expect, it } from 'vitest';

import { ByteRun } from './byte-run.js';

describe('ByteRun.putString', () => {
  it.each([
    ['short ASCII', 'row'],
    ['short multi-byte', 'é€𝄞'],
    ['long ASCII', 'x'.repeat(1 << 20)],
    ['long multi-byte', 'é€𝄞'.repeat(100_000)],
  ])('%s: the UTF-8 bytes, after what was there', (_name, text) => {
    const run = new ByteRun(4);
    run.putByte(0x7b);
    run.putString(text);
    expect(run.bytes()).toEqual(Buffer.concat([Buffer.from('{'), Buffer.from(text)]));
  });

  it('makes room for a long text by its size, not three bytes per character', () => {
    const run = new ByteRun(16);
    run.putString('x'.repeat(8 << 20));
    expect(run.length).toBe(8 << 20);
    expect(run.capacity).toBeLessThan(9 << 20);
  });
});
