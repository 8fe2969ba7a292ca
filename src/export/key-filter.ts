import { hashBytes } from './key-set.js';

/** 2^25 bits (4 MiB): at 2 million keys about 1 in 500 keys is a false "maybe"; at 10 million, 1 in 4. */
const bits = 1 << 25;
const probes = 4;

/**
 * The keys a spilled key set wrote to disk (target-keys.ts), as a Bloom filter of fixed size: `mayHave`
 * false means the key is surely in no run, so it can be fetched before the runs are merged; true means
 * perhaps (the merge decides). Memory stays 4 MiB whatever the number of keys: more keys only make more
 * of them wait for the merge.
 */
export class KeyFilter {
  readonly #words = new Int32Array(bits / 32);

  add(buf: Buffer, from: number, to: number): void {
    const first = hashBytes(buf, from, to);
    const step = hashBytes(buf, from, to, 0x9747b28c) | 1;
    for (let i = 0; i < probes; i += 1) {
      const bit = (first + i * step) & (bits - 1);
      this.#words[bit >>> 5]! |= 1 << (bit & 31);
    }
  }

  mayHave(buf: Buffer, from: number, to: number): boolean {
    const first = hashBytes(buf, from, to);
    const step = hashBytes(buf, from, to, 0x9747b28c) | 1;
    for (let i = 0; i < probes; i += 1) {
      const bit = (first + i * step) & (bits - 1);
      if ((this.#words[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}
