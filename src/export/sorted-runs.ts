import { closeSync, openSync, readSync, writeSync } from 'node:fs';

import { DONE, entryHeader, type KeyState, PENDING } from './key-set.js';

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
    this.#used += buf.copy(this.#block, this.#used, from, to);
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

/**
 * Sorts `offsets` (entries of a key set's arena, key-set.ts) in place by their keys' bytes — the order
 * of compareKeys, so a run is the same bytes — by a most-significant-byte radix sort: a pass per byte
 * over the keys still tied, no comparison callback (the comparator sort took ~0.2 s per 200,000 keys,
 * docs/performance.md). An explicit stack: keys sharing a long prefix do not recurse per byte.
 */
export function sortEntriesByKey(arena: Buffer, offsets: Uint32Array): void {
  const n = offsets.length;
  const from = new Uint32Array(n);
  const length = new Uint32Array(n);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i += 1) {
    from[i] = offsets[i]! + entryHeader;
    length[i] = arena.readUInt32LE(offsets[i]! + 1);
    order[i] = i;
  }
  const scratch = new Uint32Array(n);
  const bucket = new Uint32Array(257);
  // Each key's bucket at this byte: 0, the key ends here; 1 + b, its byte is b.
  const digit = new Uint16Array(n);
  const stack = [0, n, 0];
  while (stack.length > 0) {
    const depth = stack.pop()!;
    const hi = stack.pop()!;
    const lo = stack.pop()!;
    if (hi - lo <= insertionRange) {
      for (let k = lo + 1; k < hi; k += 1) {
        const v = order[k]!;
        let j = k - 1;
        for (; j >= lo; j -= 1) {
          const u = order[j]!;
          if (
            compareKeys(
              arena,
              from[u]! + depth,
              from[u]! + length[u]!,
              from[v]! + depth,
              from[v]! + length[v]!,
            ) <= 0
          )
            break;
          order[j + 1] = u;
        }
        order[j + 1] = v;
      }
      continue;
    }
    bucket.fill(0);
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
    order.set(scratch.subarray(lo, hi), lo);
    // bucket[b] is now where bucket b ends. Keys ending here (bucket 0) are all equal: not split further.
    for (let b = 1, start = bucket[0]!; b < 257; start = bucket[b]!, b += 1)
      if (bucket[b]! - start > 1) stack.push(start, bucket[b]!, depth + 1);
  }
  const sorted = order.map((i) => offsets[i]!);
  offsets.set(sorted);
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
