import type { Hash } from 'node:crypto';

import { CapsuleError, ManifestError } from '../errors.js';
import { lossyMarker } from '../graph/lossy-values-sql.js';
import { jsRedactionMarker, type RowRedactor } from '../redaction/index.js';
import { ByteRun } from './byte-run.js';
import { maxLineBytes, mib } from './limits.js';

/** Per-table state of the row framing loop. */
export interface RowFramingState {
  table: string;
  /** Rows framed so far. */
  rows: number;
  /** Pieces of an incomplete last line, carried to the next chunk (joined once, when it ends). */
  remainder: Buffer | undefined;
  /** Set by frameRowsInto: the framed bytes not yet taken (takeFramed). */
  output?: FramedOutput | undefined;
  /** Set by frameRows: pieces of a line longer than one chunk, and their total length. */
  pending?: { pieces: Buffer[]; length: number } | undefined;
  /** sha256-rows-v1 hash of the table: each row text as written, followed by `\n`. */
  hash: Pick<Hash, 'update'>;
  /**
   * Rows of the table come before these (a later piece of a table read in pieces, capsule/table-pieces):
   * the first row is written after a comma too.
   */
  continued?: boolean | undefined;
  redactor: RowRedactor | undefined;
  /**
   * The rows come from a query that redacted them in SQL (redaction/redaction-sql.ts): only rows marked
   * with jsRedactionMarker go to the redactor (marker dropped); unmarked rows are final as they are.
   */
  redactedInSql?: boolean | undefined;
  /**
   * Rows holding a value the capsule cannot hold exactly, per lossy column index (graph/lossy-values-sql.ts):
   * counted from the rows' 0x04 prefixes, which are not written. Made on the first such row.
   */
  lossy?: number[] | undefined;
}

const firstSeparator = Buffer.from('\n      ', 'utf8');
const nextSeparator = Buffer.from(',\n      ', 'utf8');
const newline = 0x0a;
const openBrace = 0x7b;

/**
 * Turns a chunk of `\n`-terminated row lines (split anywhere) into capsule row lines: each row is
 * preceded by `\n      ` (first row) or `,\n      `, so the last row needs no look-ahead to omit its
 * comma. Rows pass through as bytes — no decoding — unless a rule key occurs in them (the redactor's
 * needle search over the chunk); then the redactor rewrites the row (redactBytes: in-place splice, or
 * parse and re-serialise). The integrity hash covers contiguous runs of untouched rows in one update each.
 */
export function frameRows(state: RowFramingState, chunk: Buffer): Buffer {
  frameRowsInto(state, chunk);
  return takeFramed(state);
}

/** The framed bytes a state holds, as frameRowsInto leaves them. */
export interface FramedOutput {
  readonly length: number;
}

/**
 * frameRows, keeping the framed bytes in the state, after those of earlier chunks, until takeFramed: a
 * caller can write many small COPY reads as one. `capacity`: room to make for them at once.
 */
export function frameRowsInto(state: RowFramingState, chunk: Buffer, capacity = 0): void {
  // Linear in the line length: while a line has not ended, chunks are only collected (one newline scan
  // of each new chunk), never concatenated and re-scanned chunk after chunk.
  if (state.remainder) {
    state.pending = { pieces: [state.remainder], length: state.remainder.length };
    state.remainder = undefined;
  }
  let from = 0;
  let spanning: Buffer | undefined;
  if (state.pending) {
    const nl = chunk.indexOf(newline);
    if (nl === -1) {
      state.pending.pieces.push(chunk);
      state.pending.length += chunk.length;
      const limit = maxLineBytes();
      if (state.pending.length > limit) throw rowTooLong(state, limit);
      return;
    }
    // Only the row that spans the reads is joined (nearly every read ends inside a row), not the chunk.
    spanning = Buffer.concat([...state.pending.pieces, chunk.subarray(0, nl + 1)]);
    state.pending = undefined;
    from = nl + 1;
  }
  const size = chunk.length - from + (spanning?.length ?? 0);
  const output = state.output instanceof ByteRun ? state.output : undefined;
  const framing: Framing = {
    state,
    out: output ?? new ByteRun(Math.max(capacity, size + (size >> 3) + 64)),
    // Redacted rows as written (`row\n`), put together for the hash (see frameLines). Emptied before
    // frameLines returns: one scratch for all.
    hashed: state.redactor ? hashScratch.reset() : undefined,
  };
  if (spanning) frameLines(framing, spanning, 0);
  const end = frameLines(framing, chunk, from);
  if (framing.hashed && framing.hashed.capacity > 1 << 22) hashScratch = new ByteRun(1 << 17); // after a huge row
  // Copy the tail so the (large) chunk it points into can be released.
  if (end < chunk.length) state.remainder = Buffer.from(chunk.subarray(end));
  state.output = framing.out;
}

/** Hands over the framed bytes the state holds (empty when none) and forgets them. */
export function takeFramed(state: RowFramingState): Buffer {
  const output = state.output instanceof ByteRun ? state.output.bytes() : Buffer.alloc(0);
  state.output = undefined;
  return output;
}

interface Framing {
  state: RowFramingState;
  /** The capsule row lines of the chunk. */
  out: ByteRun;
  /** With a redactor: rows it rewrote, as written, each followed by `\n`, not hashed yet. */
  hashed: ByteRun | undefined;
}

/** The row being framed is longer than the capsule reader takes (limits.ts): refused as it is written. */
function rowTooLong(state: RowFramingState, limit: number): CapsuleError {
  return new CapsuleError(
    `tables[${state.table}]: row ${state.rows + 1} is longer than ${mib(limit)} (the per-line limit)`,
    { code: 'capsule_line_too_long', hint: 'see docs/safety.md (size limits)' },
  );
}

/**
 * Frames the complete lines of `buf` from `from` into `framing`; returns where the incomplete last line
 * starts (buf.length when there is none).
 *
 * The sha256-rows-v1 hash takes each row as written followed by `\n`, in order. Rows left as they are
 * lie in `buf` one after the other (a lossy-value prefix or a redaction marker between two ends a run):
 * hashed straight from it, one update per run. Rows the redactor rewrote are put together in `hashed`,
 * one update per group of them (Hash.update costs ~0.3 µs a call, several per row if each piece were
 * hashed alone). Whichever is pending is hashed when the other kind comes, and at the end.
 */
function frameLines(framing: Framing, buf: Buffer, from: number): number {
  const { state, out, hashed } = framing;
  // Each row as written (the capsule line the reader will take), whole in one chunk or not: a row that
  // spanned chunks arrives here whole, and redaction may lengthen a row.
  const limit = maxLineBytes();
  const sql = state.redactedInSql === true;
  // Rows the redactor may change: marked rows (redacted in SQL), else rows holding one of its needles. A
  // row with no needle is left as it is by redactBytes whatever it holds (row-redactor.ts): it is copied.
  const found = state.redactor && !sql ? state.redactor.chunkNeedles(buf, from) : undefined;
  const hits = found?.positions;
  let hit = 0;
  let start = from;
  // The open run of unchanged rows, buf[runFrom, runTo) (none while runFrom is -1).
  let runFrom = -1;
  let runTo = 0;
  let nl: number;
  while ((nl = buf.indexOf(newline, start)) !== -1) {
    let begin = start;
    if (buf[start] === lossyMarker) begin = countLossy(state, buf, start, nl);
    const marked = sql && buf[begin] === jsRedactionMarker;
    const rowStart = marked ? begin + 1 : begin;
    if (nl === rowStart || buf[rowStart] !== openBrace) {
      throw new ManifestError(
        `tables[${state.table}]: row ${state.rows + 1} is ${nl === begin ? 'NULL' : 'not a JSON object'}; rowSql must return one JSON object per row`,
      );
    }
    out.put(state.rows === 0 && !state.continued ? firstSeparator : nextSeparator);
    const rowStartOut = out.length;
    if (marked && !state.redactor) {
      throw new Error(`tables[${state.table}]: a row marked for redaction, but no redactor`);
    }
    let first = hit;
    if (hits) {
      while (hit < hits.length && hits[hit]! < rowStart) hit++;
      first = hit;
      while (hit < hits.length && hits[hit]! < nl) hit++;
    }
    const edits =
      hit > first
        ? state.redactor!.rowEdits(buf, rowStart, nl, {
            hits: hits!,
            from: first,
            to: hit,
            escapes: found!.escapes,
          })
        : undefined;
    if (edits || marked || hit > first) {
      if (runFrom !== -1) {
        state.hash.update(buf.subarray(runFrom, runTo));
        runFrom = -1;
      }
    } else if (hashed && hashed.length > 0) {
      state.hash.update(hashed.bytes());
      hashed.reset();
    }
    if (edits) {
      // The row with its new values, put together from the chunk once (no Buffer per row), then copied.
      const hashedStart = hashed!.length;
      let copied = rowStart;
      for (let k = 0; k < edits.count; k++) {
        hashed!.copyFrom(buf, copied, edits.starts[k]!);
        hashed!.put(edits.values[k]!);
        copied = edits.ends[k]!;
      }
      hashed!.copyFrom(buf, copied, nl + 1);
      out.copyRun(hashed!, hashedStart, hashed!.length - 1);
    } else if (marked || hit > first) {
      // Marked rows are written without their marker, whatever the redactor does.
      const needles = hits?.slice(first, hit).map((at) => at - rowStart);
      const redacted = state.redactor!.redactBytes(buf.subarray(rowStart, nl), needles);
      out.put(redacted);
      hashed!.put(redacted);
      hashed!.putByte(newline);
    } else {
      out.copyFrom(buf, rowStart, nl);
      if (runFrom === -1 || runTo !== rowStart) {
        if (runFrom !== -1) state.hash.update(buf.subarray(runFrom, runTo));
        runFrom = rowStart;
      }
      runTo = nl + 1;
    }
    // The capsule line: six spaces, the row and its comma (the last row has none, which is not known yet).
    if (out.length - rowStartOut + 7 > limit) throw rowTooLong(state, limit);
    state.rows += 1;
    start = nl + 1;
  }
  if (runFrom !== -1) state.hash.update(buf.subarray(runFrom, runTo));
  if (hashed && hashed.length > 0) {
    state.hash.update(hashed.bytes());
    hashed.reset();
  }
  return start;
}

/**
 * Counts the lossy columns a row's prefix names (`0x04 "0,2,"`, before `{` or the redaction marker) and
 * returns where the row itself starts.
 */
function countLossy(state: RowFramingState, buf: Buffer, start: number, nl: number): number {
  const counts = (state.lossy ??= []);
  let index = 0;
  let at = start + 1;
  for (; at < nl; at++) {
    const byte = buf[at]!;
    if (byte >= 0x30 && byte <= 0x39) index = index * 10 + (byte - 0x30);
    else if (byte === 0x2c) {
      counts[index] = (counts[index] ?? 0) + 1;
      index = 0;
    } else break;
  }
  return at;
}

let hashScratch = new ByteRun(1 << 17);
