import { finalMix, fnvPrime, fnvSeed } from './key-set.js';

/** 2^25 bits (4 MiB): at 2 million keys about 1 in 500 keys is a false "maybe"; at 10 million, 1 in 4. */
const bits = 1 << 25;
const probes = 4;
const otherSeed = 0x9747b28c;

/**
 * The keys a spilled key set wrote to disk (target-keys.ts), as a Bloom filter of fixed size: `mayHave`
 * false means the key is surely in no run, so it can be fetched before the runs are merged; true means
 * perhaps (the merge decides). Memory stays 4 MiB whatever the number of keys: more keys only make more
 * of them wait for the merge.
 */
export class KeyFilter {
  readonly #words = new Int32Array(bits / 32);
  /** The probes of the key last hashed (#hash): first bit and step. */
  #first = 0;
  #step = 0;

  add(buf: Buffer, from: number, to: number): void {
    this.#hash(buf, from, to);
    for (let i = 0; i < probes; i += 1) {
      const bit = (this.#first + i * this.#step) & (bits - 1);
      this.#words[bit >>> 5]! |= 1 << (bit & 31);
    }
  }

  mayHave(buf: Buffer, from: number, to: number): boolean {
    this.#hash(buf, from, to);
    for (let i = 0; i < probes; i += 1) {
      const bit = (this.#first + i * this.#step) & (bits - 1);
      if ((this.#words[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }

  /** Two independent FNV-1a hashes (two seeds) in one pass over the bytes. */
  #hash(buf: Buffer, from: number, to: number): void {
    let first = fnvSeed;
    let second = otherSeed;
    for (let i = from; i < to; i += 1) {
      const byte = buf[i]!;
      first = Math.imul(first ^ byte, fnvPrime);
      second = Math.imul(second ^ byte, fnvPrime);
    }
    this.#first = finalMix(first);
    this.#step = finalMix(second) | 1;
  }
}
