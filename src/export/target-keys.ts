import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { pidAlive } from '../capsule/atomic-file.js';
import { KeyFilter } from './key-filter.js';
import { DONE, entryHeader, KeySet, type KeyState, PENDING } from './key-set.js';
import { copyBytes } from './short-bytes.js';
import { mergeRuns, runLine, RunWriter, sortEntriesByKey } from './sorted-runs.js';

/**
 * Keys held in memory per set before it spills to a sorted run on disk (REPLAY_ENV_CLOSURE_KEYS_IN_MEMORY):
 * its hash table is then at most 2^20 slots (8 MiB). Raised from 200,000: at 500,000 integer keys (the
 * `parents` benchmark at 1M rows) the two spills and the last drain's merge cost ~0.6–0.9 s of the export's
 * CLI CPU in paired runs, and peak RSS stayed within the runs' noise (docs/performance.md, ninth session).
 */
export const defaultKeysInMemory = 500_000;

/**
 * Key bytes held in memory per set (its arena, entry headers included) before it spills, whatever the
 * count: long keys spill sooner, so a set's memory is bounded by this (8 MiB arena, the arena grows by
 * doubling to exactly this) plus its table, not by the keys' length.
 */
export const keyBytesInMemory = 8 << 20;

/** Runs a set keeps on disk before merging them into one (#compact): a merge opens each of them. */
export const maxRuns = 64;

const spillDirName = /^replay-env-closure-(\d+)-[A-Za-z0-9]{6}$/;

/**
 * Where key sets spill: one directory in the OS temp dir, made on the first spill and removed by
 * `remove()` (the export calls it when it ends, failed or not) or, failing that, when the process exits.
 * Never a temp table: the export's transaction is READ ONLY. SIGKILL (or a power cut) skips both: the
 * directory of a killed export (its keys are production values) is removed by the next SpillDir made,
 * as the capsule's own temp files are by the next export (atomic-file.ts).
 */
export class SpillDir {
  #dir: string | undefined;
  #files = 0;
  readonly #onExit = () => this.remove();

  constructor() {
    removeDeadSpillDirs();
  }

  /** A new file's path in the directory (made on first use). */
  file(): string {
    if (this.#dir === undefined) {
      // The pid in the name: whose directory it is (tests running in parallel processes tell theirs apart).
      this.#dir = mkdtempSync(join(tmpdir(), `replay-env-closure-${process.pid}-`));
      process.once('exit', this.#onExit);
    }
    return join(this.#dir, `run-${(this.#files += 1)}`);
  }

  remove(): void {
    if (this.#dir === undefined) return;
    rmSync(this.#dir, { recursive: true, force: true });
    process.off('exit', this.#onExit);
    this.#dir = undefined;
  }
}

/** Removes the spill directories (`replay-env-closure-<pid>-*`) of processes that are gone. */
function removeDeadSpillDirs(): void {
  const dir = tmpdir();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const match = spillDirName.exec(name);
    if (!match || pidAlive(Number(match[1]))) continue;
    try {
      rmSync(join(dir, name), { recursive: true, force: true });
    } catch {
      // Not ours to remove (another user's): left as it is.
    }
  }
}

interface Run {
  file: string;
  /** It may hold pending keys (a compacted merge holds none). */
  pending: boolean;
}

/**
 * The keys of one referenced unique key of a parent table, each pending (wanted, not fetched yet) or
 * done (fetched, or exported by the table's own query). Up to `limit` keys live in memory (key-set.ts);
 * beyond, they spill to sorted runs on disk, where a key may then appear twice: draining merges the runs
 * (done wins), so each key is still fetched once. A filter of the spilled keys (key-filter.ts) lets
 * pending keys that are surely in no run be fetched without that merge, and stay in memory through a
 * spill, so the closure's early fetches go on while the children stream and the merge is only needed for
 * a key wanted again after it spilled.
 */
export class TargetKeys {
  readonly #spill: SpillDir;
  readonly #limit: number;
  readonly #memory = new KeySet();
  #runs: Run[] = [];
  /**
   * Entries before this offset are all done, or pending keys the filter says may be in a run (`#held` of
   * them, left for the merge): the in-memory drain resumes here.
   */
  #cursor = 0;
  #held = 0;
  /** Every key written to a run (made on the first spill). */
  #inRuns: KeyFilter | undefined;

  constructor(spill: SpillDir, limit: number) {
    this.#spill = spill;
    this.#limit = Math.max(1, limit);
  }

  /** A key (`buf[from, to)`, JSON array text) some row references. */
  want(buf: Buffer, from: number, to: number): void {
    this.#add(buf, from, to, PENDING);
  }

  /** A key the table's own rows (or rows already fetched) have: never fetched again. */
  own(buf: Buffer, from: number, to: number): void {
    this.#add(buf, from, to, DONE);
  }

  get hasPending(): boolean {
    return this.#memory.pendingCount > 0 || this.#runs.some((run) => run.pending);
  }

  get spilled(): boolean {
    return this.#runs.length > 0;
  }

  /**
   * Drains pending keys, `size` at a time, marking them done; keys wanted while a chunk is being fetched
   * (a self-reference) come in a later chunk. `last`: no key will be wanted (nor all asked for) after this
   * drain, so merging spilled runs writes no run of the keys done (a second pass over every key on disk).
   */
  async *takePending(size: number, last = false): AsyncGenerator<KeyChunk> {
    while (this.hasPending) {
      yield* this.#drainMemory(size);
      if (this.spilled && this.hasPending) yield* last ? this.#drainLast(size) : this.#drainRuns(size);
    }
  }

  /** Every key, pending or done: the rows the parent will have (reference tables follow them). */
  async *allChunks(size: number): AsyncGenerator<KeyChunk> {
    let chunk = new KeyChunk();
    if (!this.spilled) {
      for (let at = 0; at < this.#memory.end;) {
        const entry = this.#memory.entryAt(at);
        chunk.add(entry.arena, entry.from, entry.to);
        at = entry.next;
        if (chunk.length === size) {
          yield chunk;
          chunk = new KeyChunk();
        }
      }
    } else {
      this.#flush();
      for (const { key } of mergeRuns(this.#runs.map((run) => run.file))) {
        chunk.addLatin1(key);
        if (chunk.length === size) {
          yield chunk;
          chunk = new KeyChunk();
        }
      }
    }
    if (chunk.length > 0) yield chunk;
  }

  /** Pending keys in memory and surely in no run (a spill during a fetch keeps some: key-filter.ts). */
  *#drainMemory(size: number): Generator<KeyChunk> {
    for (let chunk = this.takeChunk(size); chunk.length > 0; chunk = this.takeChunk(size)) yield chunk;
  }

  /** Pending keys held in memory that can be fetched now (not those that may be in a run too). */
  get pendingInMemory(): number {
    return Math.max(0, this.#memory.pendingCount - this.#held);
  }

  /** Up to `size` of the pending keys held in memory and surely in no run, marked done. */
  takeChunk(size: number): KeyChunk {
    return this.#take(size, true);
  }

  /** takeChunk; without `filtered`, also the keys the filter held back (once the runs are merged). */
  #take(size: number, filtered: boolean): KeyChunk {
    const chunk = new KeyChunk();
    while (chunk.length < size && this.#cursor < this.#memory.end) {
      const at = this.#cursor;
      const entry = this.#memory.entryAt(at);
      this.#cursor = entry.next;
      if (entry.state !== PENDING) continue;
      if (filtered && this.#inRuns?.mayHave(entry.arena, entry.from, entry.to)) {
        this.#held += 1;
        continue;
      }
      this.#memory.setDone(at);
      chunk.add(entry.arena, entry.from, entry.to);
    }
    return chunk;
  }

  /**
   * Merges the runs into one, each key's state kept (done wins): a merge reads every run at once, and a
   * process may open only so many files (1,000 runs failed with EMFILE).
   */
  #compact(): void {
    const runs = this.#runs;
    const file = this.#spill.file();
    const merged = new RunWriter(file);
    try {
      for (const { key, state } of mergeRuns(runs.map((run) => run.file))) merged.add(runLine(key, state));
    } finally {
      merged.close();
    }
    this.#runs = [{ file, pending: runs.some((run) => run.pending) }];
    for (const run of runs) rmSync(run.file, { force: true });
  }

  /** Merges every run (memory flushed first) into one of done keys, yielding the pending ones. */
  *#drainRuns(size: number): Generator<KeyChunk> {
    this.#flush();
    const runs = this.#runs;
    this.#runs = [];
    const file = this.#spill.file();
    const merged = new RunWriter(file);
    let chunk = new KeyChunk();
    try {
      for (const { key, state } of mergeRuns(runs.map((run) => run.file))) {
        merged.add(runLine(key, DONE));
        if (state === DONE) continue;
        chunk.addLatin1(key);
        if (chunk.length === size) {
          yield chunk;
          chunk = new KeyChunk();
        }
      }
      if (chunk.length > 0) yield chunk;
    } finally {
      merged.close();
    }
    // Runs spilled while these chunks were fetched stay; the merged one replaces the inputs.
    this.#runs.unshift({ file, pending: false });
    for (const run of runs) rmSync(run.file, { force: true });
  }

  /**
   * The last drain (no key wanted after it): merges the runs as they are and looks each key up in memory,
   * instead of sorting memory's keys into one more run first (a sort, write and read of up to 500,000
   * keys on the export's critical path, both connections idle: docs/performance.md); then the pending keys left in memory
   * (those the filter held back that no run has). The runs are removed; none is written.
   */
  *#drainLast(size: number): Generator<KeyChunk> {
    const runs = this.#runs;
    this.#runs = [];
    let scratch = Buffer.allocUnsafe(256);
    let chunk = new KeyChunk();
    try {
      for (const { key, state } of mergeRuns(runs.map((run) => run.file))) {
        if (key.length > scratch.length) scratch = Buffer.allocUnsafe(key.length * 2);
        const length = scratch.write(key, 0, 'latin1');
        const at = this.#memory.find(scratch, 0, length);
        // In memory too: done there, or pending (held back) and now taken or done here.
        if (at >= 0) {
          if (this.#memory.entryAt(at).state === DONE) continue;
          this.#memory.setDone(at);
        }
        if (state === DONE) continue;
        chunk.add(scratch, 0, length);
        if (chunk.length === size) {
          yield chunk;
          chunk = new KeyChunk();
        }
      }
      if (chunk.length > 0) yield chunk;
    } finally {
      for (const run of runs) rmSync(run.file, { force: true });
    }
    // No run left: no key is held back any more.
    this.#inRuns = undefined;
    this.#cursor = 0;
    this.#held = 0;
    for (let left = this.#take(size, false); left.length > 0; left = this.#take(size, false)) yield left;
  }

  #add(buf: Buffer, from: number, to: number, state: KeyState): void {
    // Spilled before the arena would outgrow its bound (not after: it would double first).
    if (this.#memory.size > 0 && this.#memory.end + entryHeader + (to - from) > keyBytesInMemory)
      this.#flush(true);
    if (this.#memory.add(buf, from, to, state) && this.#memory.size > this.#limit) this.#flush(true);
  }

  /**
   * Writes memory's keys as a sorted run and empties it. With `carry`, pending keys surely in no run stay
   * in memory instead (up to a quarter of the limit and of keyBytesInMemory, so memory does shrink):
   * fetched early, they never need the merge.
   */
  #flush(carry = false): void {
    if (this.#memory.size === 0) return;
    const filter = (this.#inRuns ??= new KeyFilter());
    const cap = carry ? Math.floor(this.#limit / 4) : 0;
    let keptBytes = 0;
    // Offsets of the pending entries kept in memory, in the arena as it is now (added again after clear(),
    // in arena order: key-set.ts).
    const kept: number[] = [];
    // The entries to write, sorted by their keys' bytes in place (no string per key: 200,000 strings
    // held through a sort grew the heap by tens of MB at every spill). Read from the arena directly: an
    // entry object per key (entryAt) was most of this loop's time and garbage.
    const offsets = new Uint32Array(this.#memory.size);
    let count = 0;
    let pending = false;
    const arena = this.#memory.arena;
    for (let at = 0, end = this.#memory.end; at < end;) {
      const from = at + entryHeader;
      const to = from + arena.readUInt32LE(at + 1);
      const state = arena[at];
      if (
        state === PENDING &&
        kept.length < cap &&
        keptBytes + (to - at) <= keyBytesInMemory / 4 &&
        !filter.mayHave(arena, from, to)
      ) {
        kept.push(at);
        keptBytes += to - at;
      } else {
        if (state === PENDING) pending = true;
        filter.add(arena, from, to);
        offsets[count++] = at;
      }
      at = to;
    }
    const sorted = offsets.subarray(0, count);
    sortEntriesByKey(arena, sorted);
    const file = this.#spill.file();
    const writer = new RunWriter(file);
    for (const at of sorted) {
      const from = at + entryHeader;
      writer.addKey(arena, from, from + arena.readUInt32LE(at + 1), arena[at] as KeyState);
    }
    writer.close();
    this.#runs.push({ file, pending });
    if (this.#runs.length >= maxRuns) this.#compact();
    this.#memory.clear();
    for (const at of kept) {
      const from = at + entryHeader;
      this.#memory.add(arena, from, from + arena.readUInt32LE(at + 1), PENDING);
    }
    this.#cursor = 0;
    this.#held = 0;
  }
}

/**
 * The keys of one closure query, as the JSON array text the query reads (`[[1],["a", 2]]`), built from
 * the keys' bytes: no string per key (a chunk's strings outlived young-generation collections while its
 * query ran), nor a JavaScript array of their offsets (10,000 numbers, held through the query as well:
 * the passed-key path's steady promotions to old space). Iterating gives each key's text.
 */
export class KeyChunk implements Iterable<string> {
  #bytes = Buffer.allocUnsafe(1 << 12);
  #used = 1;
  /** Where each key starts in #bytes (a comma, or the closing bracket, ends it): the first #count. */
  #starts = new Uint32Array(64);
  #count = 0;

  constructor() {
    this.#bytes[0] = 0x5b; // [
  }

  get length(): number {
    return this.#count;
  }

  /** Appends the key `buf[from, to)`. */
  add(buf: Buffer, from: number, to: number): void {
    const bytes = this.#room(to - from);
    this.#used += copyBytes(buf, from, to, bytes, this.#used);
  }

  /** Appends a key read from a run (latin1: one character per byte, the key's bytes unchanged). */
  addLatin1(key: string): void {
    const bytes = this.#room(key.length);
    this.#used += bytes.write(key, this.#used, 'latin1');
  }

  /**
   * The JSON array of the keys, as UTF-8 bytes (valid until the next add). Bytes, not a string: a chunk's
   * text (~70 KB at 10,000 keys) was alive while its query ran, so it survived young-generation
   * collections and was promoted — most of what the passed-key path promoted (docs/performance.md, eleventh
   * session); pg sends a Buffer parameter as it is, in binary format (text's binary form is its bytes).
   */
  json(): Buffer {
    this.#bytes[this.#used] = 0x5d; // ] (#room always leaves a byte)
    return this.#bytes.subarray(0, this.#used + 1);
  }

  /**
   * The keys as a PostgreSQL integer array literal, `{1,-2}` for `[[1],[-2]]`, as bytes (see json()): only
   * for keys that are one integer each (closure-sql.ts keysAsIntegerArray), whose text is `[digits]`: the
   * brackets go.
   */
  integerArray(): Buffer {
    const bytes = this.#bytes;
    const out = Buffer.allocUnsafe(this.#used + 1);
    out[0] = 0x7b; // {
    let length = 1;
    for (let i = 1; i < this.#used; i += 1) {
      const byte = bytes[i]!;
      if (byte !== 0x5b && byte !== 0x5d) out[length++] = byte; // [ ]
    }
    out[length++] = 0x7d; // }
    return out.subarray(0, length);
  }

  *[Symbol.iterator](): Iterator<string> {
    for (let i = 0; i < this.#count; i += 1) {
      const end = i + 1 < this.#count ? this.#starts[i + 1]! - 1 : this.#used;
      yield this.#bytes.toString('utf8', this.#starts[i], end);
    }
  }

  /** Makes room for a key of `length` bytes (and its comma), records its start; returns the buffer. */
  #room(length: number): Buffer {
    const need = this.#used + length + 2;
    if (need > this.#bytes.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, this.#bytes.length * 2));
      this.#bytes.copy(bigger, 0, 0, this.#used);
      this.#bytes = bigger;
    }
    if (this.#count > 0) this.#bytes[this.#used++] = 0x2c; // ,
    if (this.#count === this.#starts.length) {
      const more = new Uint32Array(this.#count * 2);
      more.set(this.#starts);
      this.#starts = more;
    }
    this.#starts[this.#count++] = this.#used;
    return this.#bytes;
  }
}
