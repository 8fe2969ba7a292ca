import { createHash, type Hash } from 'node:crypto';
import { Writable } from 'node:stream';

import type { RowRedactor } from '../redaction/index.js';
import { frameRowsInto, type RowFramingState, takeFramed } from './row-lines.js';
import { type TablePiece, unhashed } from './table-pieces.js';

export interface TableStreamOptions {
  /** Applied to each row the redactor's pre-check flags (see redaction/row-redactor.ts). */
  redactor?: RowRedactor | undefined;
  /** The rows were redacted in SQL except those marked for the redactor (see RowFramingState). */
  redactedInSql?: boolean | undefined;
  /** Called after each chunk with the table's running row count (for progress displays). */
  onRows?: (rows: number) => void;
  /**
   * Hold reads shorter than 64 KiB and frame them together (see inputBytes). A write's callback then no
   * longer means its rows are framed and counted: not for a stream fed by forwardTo (closure), whose
   * callers read the counts between COPYs.
   */
  holdReads?: boolean | undefined;
  /**
   * The table's json/jsonb and array column names, in the order the rows' lossy-value prefixes number them
   * (graph/lossy-values-sql.ts): the counts come back by name in FramedTable.lossy.
   */
  lossyColumns?: readonly string[] | undefined;
  /** The rows are one piece of the table (table-pieces.ts); absent: the whole table. */
  piece?: TablePiece | undefined;
}

/** A table's rows as framed: their count, sha256-rows-v1 hash (hex) and rows with lossy values per column (if any). */
export interface FramedTable {
  rows: number;
  /** Empty for a piece (TablePiece): the writer digests the table's hash after its last piece. */
  sha256: string;
  lossy?: Record<string, number>;
  /** The first piece of a table in pieces: its hash, not digested, which the later pieces continue. */
  hash?: Hash;
}

/**
 * Framed bytes handed to the target at once: a COPY read is ~6 KiB on average (the server's 8 KiB
 * messages as they arrive), and each handed over alone cost a file write with its thread-pool round trip
 * (~59,000 writes for a 1M-row realistic export; docs/performance.md, ninth session).
 */
const batchBytes = 1 << 18;
/**
 * Input framed at once: short reads are held (not copied) until this much has come, then joined. Framing
 * a chunk has a fixed cost (the needle search's setup, the row split across reads joined, the rows' hash
 * updated): 1M realistic rows in 6.4 KiB chunks took ~0.3 s more CPU than in 64 KiB ones.
 */
const inputBytes = 1 << 16;
/**
 * Room made for a batch's framed bytes at once: it is handed over once it holds batchBytes, so it must
 * also take the last input framed into it (held reads of < inputBytes plus one read) without growing.
 * With batchBytes + 1/8 nearly every batch outgrew its buffer and was copied whole into a new one
 * (~0.14 s of a 1M-row realistic export's CPU; docs/performance.md, twenty-second session).
 */
const batchCapacity = batchBytes * 2;

/** What closes a table's row list in the capsule. */
export const tableEnd = Buffer.from('\n    ]', 'utf8');

export interface FramingTarget {
  /** Takes the framed bytes of one chunk (`last`: the table's final ones); resolves when more may come. */
  emit(chunk: Buffer, last: boolean): Promise<void>;
  onRows(rows: number): void;
  /** The table is complete. */
  onDone(framed: FramedTable): void;
}

/**
 * A Writable taking table `name`'s rows as bytes (one JSON text per line, `\n`-terminated, chunks split
 * anywhere) and handing the capsule row lines (frameRows) to `target` — the capsule itself or a spool
 * file: both get the very same bytes.
 */
export function framingStream(name: string, options: TableStreamOptions, target: FramingTarget): Writable {
  const hash = options.piece?.continues ? undefined : createHash('sha256');
  const framing: RowFramingState = {
    table: name,
    rows: 0,
    remainder: undefined,
    hash: hash ?? unhashed,
    continued: options.piece?.continues,
    redactor: options.redactor,
    redactedInSql: options.redactedInSql,
  };
  let held: Buffer[] = [];
  let heldBytes = 0;
  const frameHeld = (chunk?: Buffer) => {
    if (chunk) held.push(chunk);
    const input = held.length === 1 ? held[0]! : Buffer.concat(held);
    held = [];
    heldBytes = 0;
    frameRowsInto(framing, input, batchCapacity);
  };
  return new Writable({
    highWaterMark: 1 << 16,
    write(chunk: Buffer, _encoding, callback) {
      if (options.holdReads && heldBytes + chunk.length < inputBytes) {
        held.push(chunk);
        heldBytes += chunk.length;
        callback();
        return;
      }
      try {
        frameHeld(chunk);
      } catch (error) {
        callback(error as Error);
        return;
      }
      target.onRows(framing.rows);
      options.onRows?.(framing.rows);
      if ((framing.output?.length ?? 0) < batchBytes) {
        callback();
        return;
      }
      target.emit(takeFramed(framing), false).then(() => callback(), callback);
    },
    final(callback) {
      let framed: Buffer;
      let lossy: ReturnType<typeof lossyCounts>;
      try {
        if (held.length > 0) frameHeld();
        // A last row without its newline (not from COPY, but from writeTable callers) still counts.
        if (framing.remainder || framing.pending) frameRowsInto(framing, Buffer.from('\n'));
        framed = takeFramed(framing);
        lossy = lossyCounts(framing.lossy, options.lossyColumns);
      } catch (error) {
        callback(error as Error);
        return;
      }
      target.onDone({
        rows: framing.rows,
        ...(!options.piece ? { sha256: hash!.digest('hex') } : { sha256: '', ...(hash ? { hash } : {}) }),
        ...lossy,
      });
      options.onRows?.(framing.rows);
      target.emit(framed, true).then(() => callback(), callback);
    },
  });
}

/** The counts by column name; a prefix naming a column the table does not have is the query's bug. */
function lossyCounts(
  counts: readonly number[] | undefined,
  names: readonly string[] | undefined,
): { lossy?: Record<string, number> } {
  if (!counts) return {};
  const byName: Record<string, number> = {};
  counts.forEach((count, index) => {
    const name = names?.[index];
    if (name === undefined) throw new Error(`a lossy-value mark for column ${index}, which is not known`);
    byName[name] = count;
  });
  return { lossy: byName };
}
