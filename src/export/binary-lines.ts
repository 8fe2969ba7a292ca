import { ManifestError } from '../errors.js';

/** PostgreSQL's binary COPY signature (`PGCOPY\n\377\r\n\0`), then the flags and the header extension's length. */
const signature = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const headerBytes = signature.length + 8;
const newline = 0x0a;
const delimiter = 0x02;

type Phase = 'header' | 'extension' | 'count' | 'length' | 'data' | 'end';

/**
 * Turns the payload of a binary `COPY … TO STDOUT` whose columns are all text into the lines the export
 * reads: `column-1 0x02 column-2 … \n` per row (a NULL column empty), the bytes the CSV form with
 * delimiter 0x02 and quote 0x01 gives for such text (JSON and key tuples hold neither byte, nor a newline,
 * and are never empty). Binary output saves the server CSV's scan of every value for bytes to quote:
 * 6–20 % of a table query's CPU on PostgreSQL 17 (docs/performance.md, twenty-first session).
 *
 * In place: the caller hands each run of payload bytes `chunk[from, to)` with where the lines read so
 * far end (`out`, at most `from`), and gets where they end now. Every byte written replaces one already
 * read: a 0x02 when its field's length is read; a row's newline after its last value, or — when that
 * value ends exactly at `out` (a run that began inside it) — when the next row's field count (or the
 * trailer) is read. Lines end with their run as far as possible, so the reader rarely holds a part.
 *
 * Every row must have `columns` columns: a `rowSql` that closes its parentheses could add some (CSV
 * quoted what binary passes raw), and is refused with one line naming `table`.
 */
export class BinaryCopyLines {
  readonly #columns: number;
  readonly #table: string;
  #phase: Phase = 'header';
  /** The header, a count or a length, gathered across runs when it is split. */
  readonly #gathered = Buffer.alloc(headerBytes);
  #have = 0;
  #fields = 0;
  #field = 0;
  #left = 0;
  /** A row's newline had no byte to take when its last value ended: the next count (or trailer) writes it. */
  #newlineOwed = false;

  constructor({ columns, table }: { columns: number; table: string }) {
    this.#columns = columns;
    this.#table = table;
  }

  /** Whether the trailer has been read: the output ended where a COPY ends. */
  get ended(): boolean {
    return this.#phase === 'end';
  }

  convert(chunk: Buffer, from: number, to: number, out: number): number {
    let at = from;
    while (at < to) {
      const phase = this.#phase;
      if (phase === 'data') {
        const n = Math.min(this.#left, to - at);
        if (out !== at) chunk.copyWithin(out, at, at + n);
        out += n;
        at += n;
        this.#left -= n;
        if (this.#left === 0) out = this.#nextField(chunk, out, at);
        continue;
      }
      if (phase === 'extension') {
        const n = Math.min(this.#left, to - at);
        at += n;
        this.#left -= n;
        if (this.#left === 0) this.#phase = 'count';
        continue;
      }
      if (phase === 'end') throw new Error('binary COPY output went on after its trailer');
      const need = phase === 'header' ? headerBytes : phase === 'count' ? 2 : 4;
      let source = chunk;
      let offset = at;
      if (this.#have > 0 || to - at < need) {
        const n = Math.min(need - this.#have, to - at);
        chunk.copy(this.#gathered, this.#have, at, at + n);
        this.#have += n;
        at += n;
        if (this.#have < need) continue;
        this.#have = 0;
        source = this.#gathered;
        offset = 0;
      } else {
        at += need;
      }
      if (phase === 'header') {
        if (!source.subarray(offset, offset + signature.length).equals(signature))
          throw new Error('not binary COPY output: no PGCOPY signature');
        this.#left = source.readUInt32BE(offset + signature.length + 4);
        this.#phase = this.#left > 0 ? 'extension' : 'count';
      } else if (phase === 'count') {
        const count = source.readInt16BE(offset);
        if (this.#newlineOwed) {
          chunk[out++] = newline;
          this.#newlineOwed = false;
        }
        if (count === -1) {
          this.#phase = 'end';
        } else if (count !== this.#columns) {
          throw new ManifestError(
            `tables[${this.#table}]: its query returned ${count} columns, not ${this.#columns}; rowSql must be one expression, one JSON object per row`,
          );
        } else {
          this.#fields = count;
          this.#field = 0;
          this.#phase = 'length';
        }
      } else {
        const length = source.readInt32BE(offset);
        if (this.#field > 0) chunk[out++] = delimiter;
        if (length < -1) throw new Error(`binary COPY output: a value of ${length} bytes`);
        if (length > 0) {
          this.#left = length;
          this.#phase = 'data';
        } else {
          out = this.#nextField(chunk, out, at);
        }
      }
    }
    return out;
  }

  /** After a value read up to `at`: the next field, or the row's newline (now if a byte read is free). */
  #nextField(chunk: Buffer, out: number, at: number): number {
    this.#field += 1;
    if (this.#field < this.#fields) {
      this.#phase = 'length';
      return out;
    }
    this.#phase = 'count';
    if (out < at) {
      chunk[out] = newline;
      return out + 1;
    }
    this.#newlineOwed = true;
    return out;
  }
}
