import type { Hash } from 'node:crypto';

/**
 * A table read in pieces (export/table-pieces.ts: ranges of its order, on both connections): where one
 * piece stands in the table.
 * - `continues`: rows of earlier pieces come first. The piece is always spooled; its first row is framed
 *   after a comma (dropped by the writer when the earlier pieces had no row), and its rows are not hashed
 *   by its framing: the writer hashes them onto the table's hash as it appends them (FramedRowsHash), in
 *   file order, so sha256-rows-v1 is that of the whole table read at once.
 * - `more`: pieces follow; the table stays open and its hash undigested.
 */
export interface TablePiece {
  continues: boolean;
  more: boolean;
}

/** Piece `index` of `count`. */
export function pieceOf(index: number, count: number): TablePiece {
  return { continues: index > 0, more: index < count - 1 };
}

/** Stands in for the hash of a piece that continues a table (its rows are hashed when appended). */
export const unhashed: Pick<Hash, 'update'> = { update: () => unhashed as Hash };

const newline = 0x0a;
const comma = 0x2c;
/** The indentation after a row's newline (row-lines.ts: `\n      ` and `,\n      `). */
const indent = 6;

/**
 * Feeds capsule row lines — `\n      <row>` or `,\n      <row>` per row (row-lines.ts), in chunks split
 * anywhere — to a sha256-rows-v1 hash as `<row>\n`, the way the framing would have hashed them. A row
 * never holds a raw newline and always ends with `}`, so every comma before a newline is a separator.
 * One hash update per chunk (an update per row costs ~0.3 µs).
 */
export class FramedRowsHash {
  readonly #hash: Pick<Hash, 'update'>;
  /** Bytes of the indentation still to skip. */
  #skip = 0;
  #inRow = false;
  /** A comma ended the last chunk inside a row: a separator if a newline follows, else row text. */
  #heldComma = false;
  #scratch = Buffer.allocUnsafe(1 << 16);

  constructor(hash: Pick<Hash, 'update'>) {
    this.#hash = hash;
  }

  update(chunk: Buffer): void {
    if (this.#scratch.length < chunk.length + 2) this.#scratch = Buffer.allocUnsafe(chunk.length + 2);
    const out = this.#scratch;
    let length = 0;
    let at = 0;
    while (at < chunk.length) {
      if (this.#skip > 0) {
        const skipped = Math.min(this.#skip, chunk.length - at);
        at += skipped;
        this.#skip -= skipped;
        if (this.#skip === 0) this.#inRow = true;
        continue;
      }
      if (!this.#inRow) {
        // Before a piece's first row: its separator, with or without a comma.
        if (chunk[at] === comma) at += 1;
        else if (chunk[at] === newline) {
          at += 1;
          this.#skip = indent;
        } else throw new Error('framed rows: a separator was expected');
        continue;
      }
      const nl = chunk.indexOf(newline, at);
      const end = nl === -1 ? chunk.length : nl;
      if (this.#heldComma && end > at) out[length++] = comma;
      this.#heldComma = false;
      let rowEnd = end;
      if (nl !== -1) {
        if (end > at && chunk[end - 1] === comma) rowEnd -= 1;
      } else if (end > at && chunk[end - 1] === comma) {
        rowEnd -= 1;
        this.#heldComma = true;
      }
      length += chunk.copy(out, length, at, rowEnd);
      if (nl === -1) break;
      out[length++] = newline;
      at = nl + 1;
      this.#skip = indent;
      this.#inRow = false;
    }
    if (length > 0) this.#hash.update(out.subarray(0, length));
    if (out.length > 1 << 22) this.#scratch = Buffer.allocUnsafe(1 << 16); // after a huge row
  }

  /** A piece ended: its last row (which has no comma) is complete. */
  endPiece(): void {
    if (this.#skip > 0 || this.#heldComma) throw new Error('framed rows: a piece ended inside a separator');
    if (this.#inRow) this.#hash.update(Buffer.from([newline]));
    this.#inRow = false;
  }
}
