import { Transform, type TransformCallback } from 'node:stream';

import { copyBytes, sameBytes } from './short-bytes.js';

const newline = 0x0a;
const delimiter = 0x02;

/**
 * Splits closure COPY lines `row-json 0x02 key-1 0x02 key-2 … \n` (graph/closure-sql.ts): passes
 * `row-json\n` on, hands each non-empty key (jsonb array text, as bytes `buf[from, to)`, valid only during
 * the call) to `onKey(index, buf, from, to)`. JSON text never
 * holds a raw 0x02 or newline, so the first 0x02 ends the row. A key equal to the previous row's key for
 * the same foreign key is skipped without decoding (children usually arrive grouped by parent).
 *
 * It owns the chunks written to it (copy-out.ts hands over each socket read): the rows are moved together
 * in place, over the key columns before them, and passed on as part of the same buffer. A Buffer copied
 * per row into a new one (a native call and a Uint8Array each) was the splitter's largest cost, and the
 * new buffer per chunk doubled the export's short-lived external memory (more old-space collections).
 */
export class KeySplitter extends Transform {
  readonly #keys: number;
  readonly #onKey: (index: number, buf: Buffer, from: number, to: number) => void;
  /** Per foreign key, the previous row's key: its bytes at the start of a reused buffer, and length. */
  readonly #last: Buffer[];
  readonly #lastLength: number[];
  /** Where a line's delimiters are, found from its end (#rows). */
  readonly #fields: Int32Array;
  /** The start of a row split across chunks, piece by piece (copied: a chunk may be reused). */
  #pieces: Buffer[] = [];
  #pieceBytes = 0;
  #rowCount = 0;

  constructor(keys: number, onKey: (index: number, buf: Buffer, from: number, to: number) => void) {
    super();
    this.#keys = keys;
    this.#onKey = onKey;
    this.#last = Array.from({ length: keys }, () => Buffer.allocUnsafe(64));
    this.#lastLength = new Array<number>(keys).fill(-1);
    this.#fields = new Int32Array(keys);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    // Even with no key column, only whole rows go on: closure chunks read on two connections are
    // written into one table stream, so a chunk that ends inside a row would interleave with another's.
    let start = 0;
    if (this.#pieces.length > 0) {
      // Only the row split across chunks is joined (not the whole chunk), once: a row longer than many
      // chunks keeps its pieces until its newline arrives (joining at each chunk would be quadratic).
      const nl = chunk.indexOf(newline);
      if (nl === -1) {
        this.#pieces.push(Buffer.from(chunk));
        this.#pieceBytes += chunk.length;
        callback();
        return;
      }
      const row = Buffer.concat([...this.#pieces, chunk.subarray(0, nl + 1)]);
      this.#pieces = [];
      this.#pieceBytes = 0;
      this.push(row.subarray(0, this.#rows(row, 0, row.length)));
      start = nl + 1;
    }
    const end = Math.max(start, chunk.lastIndexOf(newline) + 1);
    const written = this.#rows(chunk, start, end);
    if (end < chunk.length) {
      this.#pieces.push(Buffer.from(chunk.subarray(end)));
      this.#pieceBytes += chunk.length - end;
    }
    callback(null, written === start ? undefined : chunk.subarray(start, written));
  }

  /**
   * Splits the whole lines in `buf[start, end)`, moving the rows (key columns dropped) together in place
   * from `start` on; returns where they end. A row only moves down, over bytes already read.
   */
  #rows(buf: Buffer, start: number, end: number): number {
    let written = start;
    let nl: number;
    const keys = this.#keys;
    const fields = this.#fields;
    while (start < end && (nl = buf.indexOf(newline, start)) !== -1) {
      // The key columns come last and are short, and JSON text never holds a raw 0x02: a line's
      // delimiters are found backwards from its end, over the keys only. (Searched forwards, a line
      // without one — every line when no key is collected — was read on to the end of the chunk.)
      let found = 0;
      for (let at = nl; found < keys; found += 1) {
        at = at > start ? buf.lastIndexOf(delimiter, at - 1) : -1;
        if (at < start) break;
        fields[keys - 1 - found] = at;
      }
      const first = keys - found;
      const field = found > 0 ? fields[first]! : nl;
      // Keys are handed on before a later row moves over their bytes.
      if (written !== start) buf.copyWithin(written, start, field);
      written += field - start;
      buf[written++] = newline;
      for (let index = 0; index < found; index += 1) {
        const from = fields[first + index]! + 1;
        const to = index + 1 < found ? fields[first + index + 1]! : nl;
        if (to > from) this.#key(index, buf, from, to);
      }
      start = nl + 1;
      this.#rowCount += 1;
    }
    return written;
  }

  /** Rows passed on so far. */
  get rows(): number {
    return this.#rowCount;
  }

  override _flush(callback: TransformCallback): void {
    if (this.#pieceBytes > 0) {
      callback(new Error('closure export: COPY output ended in the middle of a row'));
      return;
    }
    callback();
  }

  #key(index: number, buf: Buffer, from: number, to: number): void {
    const length = to - from;
    let last = this.#last[index]!;
    if (this.#lastLength[index] === length && sameBytes(buf, from, last, 0, length)) return;
    if (last.length < length) last = this.#last[index] = Buffer.allocUnsafe(length * 2);
    copyBytes(buf, from, to, last, 0);
    this.#lastLength[index] = length;
    this.#onKey(index, buf, from, to);
  }
}
