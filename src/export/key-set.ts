import { copyBytes, sameBytes } from './short-bytes.js';

/** A key wanted but not fetched yet. */
export const PENDING = 0;
/** A key fetched, or exported by the table's own query: never fetched (again). */
export const DONE = 1;
export type KeyState = typeof PENDING | typeof DONE;

/** Entry header in the arena: state (1 byte), key length (4 bytes), then the key's bytes. */
export const entryHeader = 5;
const header = entryHeader;

/**
 * A set of keys (byte strings) with a state each, in one growing Buffer (the arena, entries in insertion
 * order) and an open-addressing table of entry offsets — no JavaScript object per key: 2 million integer
 * keys take ~40 MB as a Set of strings, ~24 MB here, and no garbage (target-keys.ts bounds it further).
 */
export class KeySet {
  #arena = Buffer.allocUnsafe(1 << 16);
  #used = 0;
  /** Entry offset + 1 per slot (0: empty); `#hashes` holds the key's hash beside it. */
  #slots = new Int32Array(1 << 12);
  #hashes = new Int32Array(1 << 12);
  #size = 0;
  #pending = 0;

  get size(): number {
    return this.#size;
  }

  get pendingCount(): number {
    return this.#pending;
  }

  /**
   * The arena itself (until the next add or clear): an entry is its state byte, its key's length
   * (UInt32LE) and the key, `entryHeader` bytes after the entry's offset.
   */
  get arena(): Buffer {
    return this.#arena;
  }

  /** Bytes the arena holds: entries are read back by offset (entryAt) up to here. */
  get end(): number {
    return this.#used;
  }

  /**
   * Adds the key `buf[from, to)` in `state` if absent; a present key only moves to DONE (never back).
   * Returns false if the key was already there.
   */
  add(buf: Buffer, from: number, to: number, state: KeyState): boolean {
    const hash = hashBytes(buf, from, to);
    const found = this.#find(hash, buf, from, to);
    if (found >= 0) {
      if (state === DONE && this.#arena[found] === PENDING) this.#setDone(found);
      return false;
    }
    const at = this.#append(buf, from, to, state);
    this.#insert(hash, at);
    this.#size += 1;
    if (state === PENDING) this.#pending += 1;
    if (this.#size * 2 > this.#slots.length) this.#grow();
    return true;
  }

  /** The offset of the key `buf[from, to)`'s entry (entryAt), or -1 if the set does not hold it. */
  find(buf: Buffer, from: number, to: number): number {
    return this.#find(hashBytes(buf, from, to), buf, from, to);
  }

  /** The entry at `offset`: its state, key bounds in `arena`, and the next entry's offset. */
  entryAt(offset: number): { state: KeyState; arena: Buffer; from: number; to: number; next: number } {
    const length = this.#arena.readUInt32LE(offset + 1);
    const from = offset + header;
    return {
      state: this.#arena[offset] as KeyState,
      arena: this.#arena,
      from,
      to: from + length,
      next: from + length,
    };
  }

  /** Marks the (pending) entry at `offset` DONE. */
  setDone(offset: number): void {
    if (this.#arena[offset] === PENDING) this.#setDone(offset);
  }

  /**
   * Empties the set but keeps its arena and table: a set refilled after a spill grows as large again, and
   * new buffers each time left the full ones (16 MiB at 500,000 integer keys) as garbage at every spill.
   * The arena's bytes stay as they were until adds overwrite them: entries read from it before clear()
   * may be added again, in arena order (each lands at or before where it was: never overwritten first).
   */
  clear(): void {
    this.#used = 0;
    this.#slots.fill(0);
    this.#size = 0;
    this.#pending = 0;
  }

  #find(hash: number, buf: Buffer, from: number, to: number): number {
    const mask = this.#slots.length - 1;
    const length = to - from;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const at = this.#slots[slot]! - 1;
      if (at < 0) return -1;
      if (
        this.#hashes[slot] === hash &&
        this.#arena.readUInt32LE(at + 1) === length &&
        sameBytes(buf, from, this.#arena, at + header, length)
      )
        return at;
    }
  }

  #setDone(offset: number): void {
    this.#arena[offset] = DONE;
    this.#pending -= 1;
  }

  #append(buf: Buffer, from: number, to: number, state: KeyState): number {
    const need = this.#used + header + (to - from);
    if (need > this.#arena.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, this.#arena.length * 2));
      this.#arena.copy(bigger, 0, 0, this.#used);
      this.#arena = bigger;
    }
    const at = this.#used;
    this.#arena[at] = state;
    this.#arena.writeUInt32LE(to - from, at + 1);
    copyBytes(buf, from, to, this.#arena, at + header);
    this.#used = need;
    return at;
  }

  #insert(hash: number, at: number): void {
    const mask = this.#slots.length - 1;
    let slot = hash & mask;
    while (this.#slots[slot] !== 0) slot = (slot + 1) & mask;
    this.#slots[slot] = at + 1;
    this.#hashes[slot] = hash;
  }

  #grow(): void {
    const slots = this.#slots;
    const hashes = this.#hashes;
    this.#slots = new Int32Array(slots.length * 2);
    this.#hashes = new Int32Array(slots.length * 2);
    for (let i = 0; i < slots.length; i += 1) if (slots[i] !== 0) this.#insert(hashes[i]!, slots[i]! - 1);
  }
}

/**
 * FNV-1a over the bytes, then a final mix (keys that differ only at the end spread over the table).
 */
function hashBytes(buf: Buffer, from: number, to: number): number {
  let hash = fnvSeed;
  for (let i = from; i < to; i += 1) hash = Math.imul(hash ^ buf[i]!, fnvPrime);
  return finalMix(hash);
}

export const fnvSeed = 0x811c9dc5;
export const fnvPrime = 0x01000193;

/** Spreads a running FNV hash's bits (murmur3's finalizer steps). */
export function finalMix(hash: number): number {
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  return hash ^ (hash >>> 13);
}
