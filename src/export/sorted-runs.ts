import { closeSync, openSync, readSync, writeSync } from 'node:fs';

import { DONE, entryHeader, type KeyState, PENDING } from './key-set.js';
import { copyBytes } from './short-bytes.js';

/**
 * Sorted runs of keys on disk (target-keys.ts): one `key TAB state` line per key (state `P` pending, `D`
 * done), sorted by the key's bytes. Keys are JSON text, which holds no raw control character, so TAB and
 * newline never occur inside one and a line sorts exactly as its key. Lines are latin1 strings here: one
 * character per byte, so string order is byte order and the bytes come back unchanged.
 */

/** Writes runs and compacted merges a block at a time. */
export class RunWriter {
  readonly #fd: number;
  #buffered: string[] = [];
  #length = 0;
  /** Lines added by addKey, as bytes. */
  #block = Buffer.allocUnsafe(1 << 16);
  #used = 0;

  constructor(file: string) {
    this.#fd = openSync(file, 'wx', 0o600);
  }

  add(line: string): void {
    this.#flushBlock(); // lines stay in the order they were added
    this.#buffered.push(line);
    this.#length += line.length + 1;
    if (this.#length > 1 << 16) this.#write();
  }

  /** The line of the key `buf[from, to)` in `state`, written from its bytes (no string: runLine's bytes). */
  addKey(buf: Buffer, from: number, to: number, state: KeyState): void {
    if (this.#buffered.length > 0) this.#write();
    const need = this.#used + (to - from) + 3;
    if (need > this.#block.length) {
      this.#flushBlock();
      if (to - from + 3 > this.#block.length) this.#block = Buffer.allocUnsafe(to - from + 3);
    }
    this.#used += copyBytes(buf, from, to, this.#block, this.#used);
    this.#block[this.#used++] = 0x09; // TAB
    this.#block[this.#used++] = state === DONE ? 0x44 : 0x50; // D, P
    this.#block[this.#used++] = 0x0a;
  }

  close(): void {
    this.#write();
    this.#flushBlock();
    closeSync(this.#fd);
  }

  #flushBlock(): void {
    if (this.#used > 0) writeSync(this.#fd, this.#block, 0, this.#used);
    this.#used = 0;
  }

  #write(): void {
    if (this.#buffered.length === 0) return;
    writeSync(this.#fd, Buffer.from(`${this.#buffered.join('\n')}\n`, 'latin1'));
    this.#buffered = [];
    this.#length = 0;
  }
}

/** Byte order of two keys in `buf` (a run's order: a latin1 string compares as its bytes). */
export function compareKeys(buf: Buffer, a: number, aEnd: number, b: number, bEnd: number): number {
  const length = Math.min(aEnd - a, bEnd - b);
  for (let i = 0; i < length; i += 1) {
    const diff = buf[a + i]! - buf[b + i]!;
    if (diff !== 0) return diff;
  }
  return aEnd - a - (bEnd - b);
}

/** Ranges at most this long are sorted by insertion (compareKeys) rather than split by the next byte. */
const insertionRange = 24;

/** The keys being sorted: where each starts in the arena, its length, and their order so far. */
interface SortKeys {
  arena: Buffer;
  from: Uint32Array;
  length: Uint32Array;
  order: Uint32Array;
}

/**
 * Sorts `offsets` (entries of a key set's arena, key-set.ts) in place by their keys' bytes — the order
 * of compareKeys, so a run is the same bytes — by a most-significant-byte radix sort: a pass per byte
 * over the keys still tied, no comparison callback (docs/performance.md). An explicit stack: keys
 * sharing a long prefix do not recurse per byte. The passes are small functions of their own: V8
 * optimises them after a few calls, where one large function ran unoptimised through a whole first
 * spill (~0.3–0.5 s cold against ~0.05 s warm for 200,000 keys).
 */
export function sortEntriesByKey(arena: Buffer, offsets: Uint32Array): void {
  const n = offsets.length;
  const keys: SortKeys = {
    arena,
    from: new Uint32Array(n),
    length: new Uint32Array(n),
    order: new Uint32Array(n),
  };
  for (let i = 0; i < n; i += 1) {
    keys.from[i] = offsets[i]! + entryHeader;
    keys.length[i] = arena.readUInt32LE(offsets[i]! + 1);
    keys.order[i] = i;
  }
  const scratch = new Uint32Array(n);
  const digit = new Uint16Array(n);
  const bucket = new Uint32Array(257);
  const stack = [0, n, 0];
  while (stack.length > 0) {
    const depth = stack.pop()!;
    const hi = stack.pop()!;
    const lo = stack.pop()!;
    if (hi - lo <= insertionRange) insertionSort(keys, lo, hi, depth);
    else splitByByte(keys, lo, hi, depth, { scratch, digit, bucket }, stack);
  }
  const sorted = new Uint32Array(n);
  for (let k = 0; k < n; k += 1) sorted[k] = offsets[keys.order[k]!]!;
  offsets.set(sorted);
}

/** Sorts `order[lo, hi)`, keys equal in their first `depth` bytes, by compareKeys. */
function insertionSort(
  { arena, from, length, order }: SortKeys,
  lo: number,
  hi: number,
  depth: number,
): void {
  for (let k = lo + 1; k < hi; k += 1) {
    const v = order[k]!;
    const vFrom = from[v]! + depth;
    const vEnd = from[v]! + length[v]!;
    let j = k - 1;
    for (; j >= lo; j -= 1) {
      const u = order[j]!;
      if (compareKeys(arena, from[u]! + depth, from[u]! + length[u]!, vFrom, vEnd) <= 0) break;
      order[j + 1] = u;
    }
    order[j + 1] = v;
  }
}

/**
 * Orders `order[lo, hi)` by the byte at `depth` (a key that ends first goes first) and pushes each
 * bucket of more than one key on `stack`, to be split at the next byte. Keys ending at `depth` are
 * equal: never split further.
 */
function splitByByte(
  { arena, from, length, order }: SortKeys,
  lo: number,
  hi: number,
  depth: number,
  work: { scratch: Uint32Array; digit: Uint16Array; bucket: Uint32Array },
  stack: number[],
): void {
  const { scratch, digit, bucket } = work;
  bucket.fill(0);
  // Each key's bucket at this byte: 0, the key ends here; 1 + b, its byte is b.
  for (let k = lo; k < hi; k += 1) {
    const i = order[k]!;
    const b = depth < length[i]! ? arena[from[i]! + depth]! + 1 : 0;
    digit[k] = b;
    bucket[b]! += 1;
  }
  for (let b = 0, at = lo; b < 257; b += 1) {
    const count = bucket[b]!;
    bucket[b] = at;
    at += count;
  }
  for (let k = lo; k < hi; k += 1) scratch[bucket[digit[k]!]!++] = order[k]!;
  for (let k = lo; k < hi; k += 1) order[k] = scratch[k]!;
  // bucket[b] is now where bucket b ends.
  for (let b = 1, start = bucket[0]!; b < 257; start = bucket[b]!, b += 1)
    if (bucket[b]! - start > 1) stack.push(start, bucket[b]!, depth + 1);
}

export function runLine(key: string, state: KeyState): string {
  return `${key}\t${state === DONE ? 'D' : 'P'}`;
}

/** The keys of sorted runs, each once, in order: DONE if any run has it done. Reads 64 KiB at a time. */
export function* mergeRuns(files: readonly string[]): Generator<{ key: string; state: KeyState }> {
  const heads = files.map((file) => new RunReader(file));
  try {
    const live = heads.filter((head) => head.key !== undefined);
    while (live.length > 0) {
      let min = 0;
      for (let i = 1; i < live.length; i += 1) if (live[i]!.key! < live[min]!.key!) min = i;
      const key = live[min]!.key!;
      let state: KeyState = PENDING;
      for (let i = live.length - 1; i >= 0; i -= 1) {
        const head = live[i]!;
        if (head.key !== key) continue;
        if (head.state === DONE) state = DONE;
        head.next();
        if (head.key === undefined) live.splice(i, 1);
      }
      yield { key, state };
    }
  } finally {
    for (const head of heads) head.close();
  }
}

class RunReader {
  key: string | undefined;
  state: KeyState = PENDING;
  readonly #fd: number;
  readonly #block = Buffer.allocUnsafe(1 << 16);
  #lines: string[] = [];
  #index = 0;
  #rest = '';
  #eof = false;

  constructor(file: string) {
    this.#fd = openSync(file, 'r');
    this.next();
  }

  next(): void {
    while (this.#index >= this.#lines.length && !this.#eof) this.#read();
    if (this.#index >= this.#lines.length) {
      this.key = undefined;
      return;
    }
    const line = this.#lines[this.#index++]!;
    this.key = line.slice(0, -2);
    this.state = line.endsWith('D') ? DONE : PENDING;
  }

  close(): void {
    closeSync(this.#fd);
  }

  #read(): void {
    const bytes = readSync(this.#fd, this.#block, 0, this.#block.length, null);
    if (bytes === 0) {
      this.#eof = true;
      this.#lines = this.#rest === '' ? [] : [this.#rest];
      this.#index = 0;
      return;
    }
    const lines = (this.#rest + this.#block.toString('latin1', 0, bytes)).split('\n');
    this.#rest = lines.pop()!;
    this.#lines = lines;
    this.#index = 0;
  }
}
