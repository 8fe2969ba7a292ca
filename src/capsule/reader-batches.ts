import { isUtf8 } from 'node:buffer';
import { createHash, type Hash } from 'node:crypto';

import { LineTooLongError } from './limits.js';
import { LayoutBreak, LineLayoutParser } from './line-layout-parser.js';
import type { CapsuleBatch } from './reader-types.js';

const newline = 0x0a;

/**
 * Splits the bytes of a line-layout capsule into lines and returns its rows in batches: the rows of one
 * table found in one chunk. Lines are found and row lines recognised on the bytes; the rows of a batch
 * are copied together (without indentation and comma, each followed by `\n`) into one buffer, which is
 * exactly what the per-table SHA-256 of the integrity trailer covers, so it is hashed with one update
 * and decoded with one call (rather than decoding the chunk, then encoding each row again to hash it),
 * and handed out with the batch (value verification hashes each row's bytes from it).
 * Other lines (header, table openings, trailer) are decoded and fed to the parser as text.
 *
 * A line that spans chunks is joined once its newline arrives; a multi-byte character split between
 * chunks is whole again by then, as only complete lines are decoded.
 */
export class LineLayoutRows {
  readonly parser = new LineLayoutParser();
  readonly rowCounts: Record<string, number> = {};
  readonly hashes = new Map<string, Hash>();
  /** The table whose rows are being read. */
  table = '';
  /** The last line had no newline: the file ends in the middle of a line. */
  cut = false;
  private hash: Hash | undefined;
  private tableCount = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private scratch = Buffer.allocUnsafe(1 << 16);
  /** Where the current batch's rows start in `scratch` (with keepBytes, earlier batches of the chunk lie before). */
  private base = 0;
  private used = 0;
  private count = 0;

  /** `keepBytes`: each batch carries its rows' bytes (CapsuleBatch.bytes). */
  constructor(
    private readonly limit: number,
    private readonly keepBytes = false,
  ) {}

  /** The batches completed by one more chunk. */
  push(chunk: Buffer): CapsuleBatch[] {
    const out: CapsuleBatch[] = [];
    // The previous chunk's batches may still be in use: this chunk's go to a new buffer.
    if (this.base > 0) this.renew(this.scratch.length);
    let start = 0;
    let nl = chunk.indexOf(newline);
    if (this.pending.length > 0) {
      if (nl === -1) {
        this.keep(chunk);
        return out;
      }
      this.pending.push(chunk.subarray(0, nl));
      const line = Buffer.concat(this.pending, this.pendingBytes + nl);
      this.pending = [];
      this.pendingBytes = 0;
      this.line(line, 0, line.length, out);
      start = nl + 1;
      nl = chunk.indexOf(newline, start);
    }
    // The rows of one chunk always fit: each is shorter than its line.
    if (this.scratch.length < chunk.length) {
      this.flush(out);
      this.renew(chunk.length);
    }
    while (nl !== -1) {
      this.line(chunk, start, nl, out);
      start = nl + 1;
      nl = chunk.indexOf(newline, start);
    }
    this.flush(out);
    if (start < chunk.length) this.keep(chunk.subarray(start));
    return out;
  }

  /** The end of the file: a last line without a newline is read as a line (marked `cut`). */
  end(): CapsuleBatch[] {
    const out: CapsuleBatch[] = [];
    if (this.pending.length === 0) return out;
    this.cut = true;
    const line = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.line(line, 0, line.length, out);
    this.flush(out);
    return out;
  }

  private keep(piece: Buffer): void {
    this.pending.push(piece);
    this.pendingBytes += piece.length;
    if (this.pendingBytes > this.limit) throw new LineTooLongError(this.parser.line + 1, this.limit);
  }

  private line(buf: Buffer, start: number, end: number, out: CapsuleBatch[]): void {
    const rowEnd = this.parser.rowEnd(buf, start, end);
    if (rowEnd < 0) {
      this.flush(out);
      const row = this.parser.push(buf.toString('utf8', start, end));
      if (this.parser.tables.length !== this.tableCount) this.startTable();
      // Only rowEnd recognises rows; push returning one would mean the two disagree.
      if (row !== undefined)
        throw new LayoutBreak(this.parser.line, 'a row line the reader did not recognise');
      return;
    }
    const length = rowEnd - start - 6;
    if (this.used + length + 1 > this.scratch.length) {
      this.flush(out);
      if (this.base > 0) this.renew(this.scratch.length);
      if (length + 1 > this.scratch.length) {
        // A row longer than a chunk (it spanned chunks): its own batch, straight from its buffer.
        this.assertUtf8(buf.subarray(start + 6, rowEnd));
        this.hash!.update(buf.subarray(start + 6, rowEnd));
        this.hash!.update('\n');
        this.rowCounts[this.table]!++;
        out.push({ table: this.table, rows: [buf.toString('utf8', start + 6, rowEnd)] });
        return;
      }
    }
    buf.copy(this.scratch, this.used, start + 6, rowEnd);
    this.used += length;
    this.scratch[this.used++] = newline;
    this.count++;
  }

  private flush(out: CapsuleBatch[]): void {
    if (this.count === 0) return;
    const batch = this.scratch.subarray(this.base, this.used);
    this.assertUtf8(batch);
    this.hash!.update(batch);
    this.rowCounts[this.table]! += this.count;
    if (this.keepBytes) {
      // Decoded only if asked for: a direct load converts the bytes themselves (json-to-copy-bytes.ts).
      out.push(new BatchWithBytes(this.table, batch, this.count));
      // The batch keeps its bytes (the batches of one chunk are all made before the first is used): the
      // next batch's rows follow them in the same buffer, and the next chunk's go to a new one (push). A
      // buffer per batch pinned one chunk-sized buffer per table of a chunk (thousands for small tables).
      // Only when asked: a buffer per chunk costs a reader that decodes every row anyway CPU for nothing.
      this.base = this.used;
    } else {
      out.push({ table: this.table, rows: decodeRows(batch, this.count) });
      this.used = 0;
    }
    this.count = 0;
  }

  /** A new, empty buffer of `size` bytes (the old one may be held by batches handed out). */
  private renew(size: number): void {
    this.scratch = Buffer.allocUnsafe(size);
    this.base = 0;
    this.used = 0;
  }

  /**
   * Rows must be UTF-8 (JSON text): decoding would turn a stray byte into U+FFFD, so the loaded text would
   * not be the bytes the integrity hash covers.
   */
  private assertUtf8(bytes: Buffer): void {
    if (!isUtf8(bytes)) throw new LayoutBreak(this.parser.line, 'rows are not valid UTF-8');
  }

  private startTable(): void {
    this.tableCount = this.parser.tables.length;
    this.table = this.parser.table;
    if (Object.hasOwn(this.rowCounts, this.table))
      throw new LayoutBreak(this.parser.line, `table "${this.table}" appears twice`);
    this.hash = createHash('sha256');
    this.hashes.set(this.table, this.hash);
    this.rowCounts[this.table] = 0;
  }
}

/** The rows' text: `bytes` holds `count` rows, each followed by `\n`. */
function decodeRows(bytes: Buffer, count: number): string[] {
  const text = bytes.toString('utf8', 0, bytes.length - 1);
  return count === 1 ? [text] : text.split('\n');
}

/** A batch with its rows' bytes, which are decoded the first time its `rows` are read. */
class BatchWithBytes implements CapsuleBatch {
  #rows: string[] | undefined;

  constructor(
    readonly table: string,
    readonly bytes: Buffer,
    private readonly count: number,
  ) {}

  get rows(): string[] {
    return (this.#rows ??= decodeRows(this.bytes, this.count));
  }
}
