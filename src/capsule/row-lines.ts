import type { Hash } from 'node:crypto';

import { CapsuleError, ManifestError } from '../errors.js';
import { jsRedactionMarker, type RowRedactor } from '../redaction/index.js';
import { maxLineBytes, mib } from './limits.js';

/** Per-table state of the row framing loop. */
export interface RowFramingState {
  table: string;
  /** Rows framed so far. */
  rows: number;
  /** Pieces of an incomplete last line, carried to the next chunk (joined once, when it ends). */
  remainder: Buffer | undefined;
  /** Set by frameRows: pieces of a line longer than one chunk, and their total length. */
  pending?: { pieces: Buffer[]; length: number } | undefined;
  /** sha256-rows-v1 hash of the table: each row text as written, followed by `\n`. */
  hash: Hash;
  redactor: RowRedactor | undefined;
  /**
   * The rows come from a query that redacted them in SQL (redaction/redaction-sql.ts): only rows marked
   * with jsRedactionMarker go to the redactor (marker dropped); unmarked rows are final as they are.
   */
  redactedInSql?: boolean | undefined;
}

const firstSeparator = Buffer.from('\n      ', 'utf8');
const nextSeparator = Buffer.from(',\n      ', 'utf8');
const newline = 0x0a;
const openBrace = 0x7b;

/**
 * Turns a chunk of `\n`-terminated row lines (split anywhere) into capsule row lines: each row is
 * preceded by `\n      ` (first row) or `,\n      `, so the last row needs no look-ahead to omit its
 * comma. Rows pass through as bytes — no decoding — unless a rule key occurs in their chunk; then the
 * redactor looks at each row (redactBytes: in-place splice, or parse and re-serialise).
 * The integrity hash covers contiguous runs of untouched rows in one update each.
 */
export function frameRows(state: RowFramingState, chunk: Buffer): Buffer {
  // Linear in the line length: while a line has not ended, chunks are only collected (one newline scan
  // of each new chunk), never concatenated and re-scanned chunk after chunk.
  if (state.remainder) {
    state.pending = { pieces: [state.remainder], length: state.remainder.length };
    state.remainder = undefined;
  }
  if (state.pending) {
    const nl = chunk.indexOf(newline);
    if (nl === -1) {
      state.pending.pieces.push(chunk);
      state.pending.length += chunk.length;
      const limit = maxLineBytes();
      if (state.pending.length > limit) {
        throw new CapsuleError(
          `tables[${state.table}]: row ${state.rows + 1} is longer than ${mib(limit)} (the per-line limit)`,
          { code: 'capsule_line_too_long', hint: 'see docs/safety.md (size limits)' },
        );
      }
      return Buffer.alloc(0);
    }
  }
  const buf = state.pending ? Buffer.concat([...state.pending.pieces, chunk]) : chunk;
  state.pending = undefined;
  // One check per chunk: most chunks contain no redactable field (or, redacted in SQL, no marked row).
  const sql = state.redactedInSql === true;
  const redactor =
    state.redactor && (sql ? buf.includes(jsRedactionMarker) : state.redactor.mightApplyBytes(buf))
      ? state.redactor
      : undefined;
  // Rows are copied into one output buffer (no Buffer object per row). Without a redactor the integrity
  // hash takes the chunk's rows in one update; with one, the rows as written (`row\n`) are copied into a
  // second buffer hashed once per chunk: Hash.update costs ~0.3 µs a call, several per redacted row.
  const out = new ByteRun(buf.length + (buf.length >> 3) + 64);
  const hashed = redactor ? new ByteRun(buf.length + 64) : undefined;
  let start = 0;
  let nl: number;
  while ((nl = buf.indexOf(newline, start)) !== -1) {
    const marked = sql && buf[start] === jsRedactionMarker;
    const rowStart = marked ? start + 1 : start;
    if (nl === rowStart || buf[rowStart] !== openBrace) {
      throw new ManifestError(
        `tables[${state.table}]: row ${state.rows + 1} is ${nl === start ? 'NULL' : 'not a JSON object'}; rowSql must return one JSON object per row`,
      );
    }
    out.put(state.rows === 0 ? firstSeparator : nextSeparator);
    if (marked && !redactor) {
      throw new Error(`tables[${state.table}]: a row marked for redaction, but no redactor`);
    }
    if (hashed && (marked || !sql)) {
      // Marked rows are written without their marker, whatever the redactor does.
      const redacted = redactor!.redactBytes(buf.subarray(rowStart, nl));
      out.put(redacted);
      hashed.put(redacted);
      hashed.putByte(newline);
    } else {
      out.copyFrom(buf, rowStart, nl);
      hashed?.copyFrom(buf, rowStart, nl + 1);
    }
    state.rows += 1;
    start = nl + 1;
  }
  if (hashed) state.hash.update(hashed.bytes());
  else if (start > 0) state.hash.update(buf.subarray(0, start));
  // Copy the tail so the (large) chunk it points into can be released.
  if (start < buf.length) state.remainder = Buffer.from(buf.subarray(start));
  return out.bytes();
}

/** Bytes appended into one buffer that grows by doubling (copied only when it must grow). */
class ByteRun {
  #buffer: Buffer;
  #length = 0;

  constructor(capacity: number) {
    this.#buffer = Buffer.allocUnsafe(capacity);
  }

  put(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    if (bytes.length > 32) this.#buffer.set(bytes, this.#length);
    else for (let k = 0; k < bytes.length; k++) this.#buffer[this.#length + k] = bytes[k]!;
    this.#length += bytes.length;
  }

  copyFrom(source: Buffer, from: number, to: number): void {
    this.#reserve(to - from);
    this.#length += source.copy(this.#buffer, this.#length, from, to);
  }

  putByte(byte: number): void {
    this.#reserve(1);
    this.#buffer[this.#length++] = byte;
  }

  bytes(): Buffer {
    return this.#buffer.subarray(0, this.#length);
  }

  #reserve(more: number): void {
    if (this.#length + more <= this.#buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.#buffer.length * 2, this.#length + more));
    this.#buffer.copy(grown, 0, 0, this.#length);
    this.#buffer = grown;
  }
}
