import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { mergeDistinct, minus } from './sorted-runs.js';

/** Keys held in memory per set before it spills to a sorted run on disk (REPLAY_ENV_CLOSURE_KEYS_IN_MEMORY). */
export const defaultKeysInMemory = 200_000;

/**
 * Where key sets spill: one directory in the OS temp dir, made on the first spill and removed by
 * `remove()` (the export calls it when it ends, failed or not) or, failing that, when the process exits.
 * Never a temp table: the export's transaction is READ ONLY.
 */
export class SpillDir {
  #dir: string | undefined;
  #files = 0;
  readonly #onExit = () => this.remove();

  /** Writes `keys` (sorted, one per line: key text is JSON, which holds no raw newline) to a new file. */
  write(keys: string[]): string {
    if (this.#dir === undefined) {
      this.#dir = mkdtempSync(join(tmpdir(), 'replay-env-closure-'));
      process.once('exit', this.#onExit);
    }
    const file = join(this.#dir, `run-${(this.#files += 1)}`);
    writeFileSync(file, keys.length === 0 ? '' : `${keys.join('\n')}\n`, { mode: 0o600 });
    return file;
  }

  remove(): void {
    if (this.#dir === undefined) return;
    rmSync(this.#dir, { recursive: true, force: true });
    process.off('exit', this.#onExit);
    this.#dir = undefined;
  }
}

/**
 * The keys of one referenced unique key of a parent table: `pending` (wanted, not fetched yet) and
 * `requested` (fetched, or exported by the table's own query). Each set lives in memory up to `limit`
 * keys, then spills to sorted runs on disk; once anything spilled, `requested` lookups are no longer exact,
 * so draining merges the runs and removes every requested key there — each key is still fetched once.
 */
export class TargetKeys {
  readonly #spill: SpillDir;
  readonly #limit: number;
  readonly #pending = new Set<string>();
  readonly #requested = new Set<string>();
  #pendingRuns: string[] = [];
  readonly #requestedRuns: string[] = [];

  constructor(spill: SpillDir, limit: number) {
    this.#spill = spill;
    this.#limit = Math.max(1, limit);
  }

  /** A key some row references. */
  want(key: string): void {
    if (this.#requested.has(key)) return;
    this.#pending.add(key);
    if (this.#pending.size > this.#limit) this.#pendingRuns.push(this.#flush(this.#pending));
  }

  /** A key the table's own rows export: never fetched again. */
  own(key: string): void {
    this.#pending.delete(key);
    this.#request(key);
  }

  get hasPending(): boolean {
    return this.#pending.size > 0 || this.#pendingRuns.length > 0;
  }

  get spilled(): boolean {
    return this.#pendingRuns.length > 0 || this.#requestedRuns.length > 0;
  }

  /**
   * Drains pending keys not yet requested, `size` at a time, marking them requested; keys wanted while a
   * chunk is being fetched (a self-reference) come in a later chunk.
   */
  async *takePending(size: number): AsyncGenerator<string[]> {
    while (this.hasPending) {
      if (!this.spilled) {
        const chunk: string[] = [];
        for (const key of this.#pending) {
          this.#pending.delete(key);
          this.#request(key);
          chunk.push(key);
          if (chunk.length === size) break;
        }
        yield chunk;
        continue;
      }
      if (this.#pending.size > 0) this.#pendingRuns.push(this.#flush(this.#pending));
      if (this.#requested.size > 0) this.#requestedRuns.push(this.#flush(this.#requested));
      const runs = this.#pendingRuns;
      this.#pendingRuns = [];
      const fresh = minus(mergeDistinct(runs), mergeDistinct([...this.#requestedRuns]));
      yield* chunks(fresh, size, (key) => this.#request(key));
    }
  }

  /** Every key requested so far (a cycle's key pass settled them), `size` at a time. */
  requestedChunks(size: number): AsyncGenerator<string[]> {
    return this.#every([this.#requested], this.#requestedRuns, size);
  }

  /** Every key requested or pending: the rows the parent will have (reference tables follow them). */
  allChunks(size: number): AsyncGenerator<string[]> {
    return this.#every(
      [this.#requested, this.#pending],
      [...this.#requestedRuns, ...this.#pendingRuns],
      size,
    );
  }

  async *#every(sets: Array<Set<string>>, runs: string[], size: number): AsyncGenerator<string[]> {
    if (runs.length === 0) {
      const keys = sets.length === 1 ? sets[0]! : new Set(sets.flatMap((set) => [...set]));
      yield* chunks(keys, size);
      return;
    }
    const files = [...runs];
    for (const set of sets) if (set.size > 0) files.push(this.#spill.write([...set].sort()));
    yield* chunks(mergeDistinct(files), size);
  }

  #request(key: string): void {
    this.#requested.add(key);
    if (this.#requested.size > this.#limit) this.#requestedRuns.push(this.#flush(this.#requested));
  }

  #flush(set: Set<string>): string {
    const file = this.#spill.write([...set].sort());
    set.clear();
    return file;
  }
}

async function* chunks(
  keys: Iterable<string> | AsyncIterable<string>,
  size: number,
  each?: (key: string) => void,
): AsyncGenerator<string[]> {
  let chunk: string[] = [];
  for await (const key of keys) {
    each?.(key);
    chunk.push(key);
    if (chunk.length === size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}
