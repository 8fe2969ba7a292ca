import type { ByteRun } from '../capsule/byte-run.js';
import { type CopyColumn, type CopyColumnKind, RowConverter } from './json-to-copy.js';

const tab = 0x09;
const newline = 0x0a;
const quote = 0x22;
const comma = 0x2c;
const colon = 0x3a;
const backslash = 0x5c;
const openBrace = 0x7b;
const closeBrace = 0x7d;
const openBracket = 0x5b;
const closeBracket = 0x5d;
const nullField = Buffer.from('\\N');
const literals = { null: Buffer.from('null'), true: Buffer.from('true'), false: Buffer.from('false') };
// Raw control characters (a newline only ends a row) and `\u0000`: rows holding one take RowConverter's
// way, which refuses them as it always has. Tested on a batch's bytes read as latin1 (offsets = bytes).
// eslint-disable-next-line no-control-regex -- control characters are what this looks for
const suspectPattern = /[\u0000-\u0009\u000b-\u001f]|\\u0000/g;

/** The fast way does not take this row; RowConverter converts it (or says why it cannot). */
class NotFast extends Error {}
const notFast = new NotFast();

/**
 * RowConverter (json-to-copy.ts) on the capsule's bytes: each row's COPY text line, newline included, is
 * appended to a ByteRun straight from the rows' UTF-8 bytes — no string per row, no join, no encoding
 * again (docs/performance.md, twenty-second session). Spans that need no change (strings without a
 * backslash, numbers, literals, json values) are copied; a string with escapes or an array is decoded
 * alone and converted by RowConverter's own code. A row this does not take (a raw control character,
 * `\u0000`, an unknown or escaped key, anything not as `to_jsonb` prints it) is decoded whole and given
 * to RowConverter, whose line — or error — is the row's: both ways give the same bytes.
 */
export class ByteRowConverter {
  private readonly strings: RowConverter;
  /** Each key as its JSON string's bytes (`"name"`), in RowConverter's index order (skipped keys included). */
  private readonly quoted: Buffer[] = [];
  private readonly positions: number[] = [];
  private readonly kinds: CopyColumnKind[];
  /** The keys of the previous row, in order: rows repeat their key order. */
  private readonly order: number[] = [];
  /** Per column of the row being converted: its span in the bytes (start -1: NULL), or its text. */
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly doubled: Uint8Array;
  private readonly texts: (string | undefined)[];
  private hasText = false;
  private b: Buffer = Buffer.alloc(0);
  private i = 0;
  private end = 0;
  /** The next backslash at or after a position already looked at, in `b` (b.length: none). */
  private nextBackslash = -1;
  /** Offsets in `b` of raw control characters and `\u0000` escapes (batch), ascending; `suspect`: next one. */
  private suspects: number[] = [];
  private suspect = 0;

  constructor(columns: readonly CopyColumn[], skipped: Iterable<string> = []) {
    this.strings = new RowConverter(columns, skipped);
    const index = new Map<string, number>();
    columns.forEach((column, position) => index.set(column.name, position));
    for (const name of skipped) index.set(name, -1);
    for (const [name, position] of index) {
      this.quoted.push(Buffer.from(JSON.stringify(name)));
      this.positions.push(position);
    }
    this.kinds = columns.map((column) => column.kind);
    this.starts = new Int32Array(columns.length);
    this.ends = new Int32Array(columns.length);
    this.doubled = new Uint8Array(columns.length);
    this.texts = columns.map(() => undefined);
  }

  /** Takes the rows of `bytes` from now on (`\n`-terminated, as CapsuleBatch.bytes holds them). */
  batch(bytes: Buffer): void {
    this.b = bytes;
    this.nextBackslash = -1;
    this.suspects = [];
    this.suspect = 0;
    const text = bytes.toString('latin1');
    suspectPattern.lastIndex = 0;
    for (let match = suspectPattern.exec(text); match; match = suspectPattern.exec(text))
      this.suspects.push(match.index);
  }

  /** Appends the COPY line of the batch's row [start, end) and its newline to `out`. */
  convert(start: number, end: number, out: ByteRun): void {
    while (this.suspect < this.suspects.length && this.suspects[this.suspect]! < start) this.suspect++;
    const clean = this.suspect === this.suspects.length || this.suspects[this.suspect]! >= end;
    const mark = out.length;
    if (clean) {
      try {
        this.row(start, end);
        this.emit(out);
        return;
      } catch (error) {
        if (!(error instanceof NotFast) && !(error instanceof Error && error.name in fallBackOn)) throw error;
        out.truncate(mark);
      }
    }
    out.putString(this.strings.convert(this.b.toString('utf8', start, end)));
    out.putByte(newline);
  }

  private row(start: number, end: number): void {
    this.i = start;
    this.end = end;
    this.starts.fill(-1);
    this.doubled.fill(0);
    if (this.hasText) this.texts.fill(undefined);
    this.hasText = false;
    this.ws();
    this.expect(openBrace);
    this.ws();
    if (this.b[this.i] === closeBrace) {
      this.i++;
    } else {
      for (let k = 0; ; k++) {
        this.ws();
        const key = this.key(k);
        this.ws();
        this.expect(colon);
        this.ws();
        const position = this.positions[key]!;
        if (position < 0) this.skipValue();
        else this.value(position);
        this.ws();
        const next = this.i < this.end ? this.b[this.i++] : -1;
        if (next === closeBrace) break;
        if (next !== comma) throw notFast;
      }
    }
    this.ws();
    if (this.i !== this.end) throw notFast;
  }

  /** The columns in order, tab-separated, and the newline. */
  private emit(out: ByteRun): void {
    for (let p = 0; p < this.starts.length; p++) {
      if (p > 0) out.putByte(tab);
      const text = this.texts[p];
      const start = this.starts[p]!;
      if (text !== undefined) out.putString(text);
      else if (start < 0) out.put(nullField);
      else if (this.doubled[p]) this.copyDoubled(out, start, this.ends[p]!);
      else out.copyFrom(this.b, start, this.ends[p]!);
    }
    out.putByte(newline);
  }

  /**
   * A json value's text with each backslash doubled (the COPY escape; it holds no raw control character).
   * Columns are written in column order, not the row's: backslashFrom, which only looks forward, is not used.
   */
  private copyDoubled(out: ByteRun, start: number, end: number): void {
    let from = start;
    for (
      let at = this.b.indexOf(backslash, start);
      at >= 0 && at < end;
      at = this.b.indexOf(backslash, at + 1)
    ) {
      out.copyFrom(this.b, from, at + 1);
      out.putByte(backslash);
      from = at + 1;
    }
    out.copyFrom(this.b, from, end);
  }

  /** The `k`th key, as an index into `quoted`: literally the previous row's `k`th key, or another column's. */
  private key(k: number): number {
    const guess = this.order[k];
    if (guess !== undefined && this.startsWith(this.quoted[guess]!)) {
      this.i += this.quoted[guess]!.length;
      return guess;
    }
    for (let found = 0; found < this.quoted.length; found++) {
      if (!this.startsWith(this.quoted[found]!)) continue;
      this.i += this.quoted[found]!.length;
      this.order[k] = found;
      return found;
    }
    // Not a column, or written with escapes: RowConverter reads it.
    throw notFast;
  }

  private value(position: number): void {
    const kind = this.kinds[position]!;
    const b = this.b;
    const ch = this.i < this.end ? b[this.i]! : -1;
    if (ch === 0x6e) {
      this.literal(literals.null);
      this.span(position, -1, -1); // a key given twice: the last value counts
      return;
    }
    if (kind.type === 'json') {
      const start = this.i;
      this.skipValue();
      this.span(position, start, this.i);
      if (this.backslashFrom(start) < this.i) this.doubled[position] = 1;
      return;
    }
    if (ch === quote) {
      const close = b.indexOf(quote, this.i + 1);
      if (close > 0 && close < this.end && this.backslashFrom(this.i) > close) {
        this.span(position, this.i + 1, close);
        this.i = close + 1;
        return;
      }
      this.decoded(position, kind, () => this.skipString());
      return;
    }
    if (kind.type === 'array') {
      if (ch !== openBracket) throw notFast;
      this.decoded(position, kind, () => this.skipValue());
      return;
    }
    const start = this.i;
    if (ch === 0x74) this.literal(literals.true);
    else if (ch === 0x66) this.literal(literals.false);
    else if (ch === 0x2d || (ch >= 0x30 && ch <= 0x39)) {
      if (!kind.numeric) throw notFast;
      this.number();
    } else throw notFast;
    this.span(position, start, this.i);
  }

  private span(position: number, start: number, end: number): void {
    this.starts[position] = start;
    this.ends[position] = end;
    this.doubled[position] = 0;
    if (this.texts[position] !== undefined) this.texts[position] = undefined;
  }

  /** A value RowConverter converts: `skip` moves past it; its text alone is decoded and converted. */
  private decoded(position: number, kind: CopyColumnKind, skip: () => void): void {
    const start = this.i;
    skip();
    this.texts[position] = this.strings.valueText(this.b.toString('utf8', start, this.i), kind);
    this.hasText = true;
  }

  /** A JSON number's span, as RowConverter takes it (an exponent is its to refuse). */
  private number(): void {
    const b = this.b;
    let j = this.i;
    if (b[j] === 0x2d) j++;
    const digits = j;
    while (j < this.end && b[j]! >= 0x30 && b[j]! <= 0x39) j++;
    if (j === digits) throw notFast;
    if (j < this.end && b[j] === 0x2e) {
      const fraction = ++j;
      while (j < this.end && b[j]! >= 0x30 && b[j]! <= 0x39) j++;
      if (j === fraction) throw notFast;
    }
    if (j < this.end && (b[j] === 0x65 || b[j] === 0x45)) throw notFast;
    this.i = j;
  }

  /** Moves past one JSON value, as RowConverter's skipValue does, within the row. */
  private skipValue(): void {
    const b = this.b;
    const ch = this.i < this.end ? b[this.i] : -1;
    if (ch === quote) {
      this.skipString();
      return;
    }
    if (ch === openBrace || ch === openBracket) {
      let depth = 0;
      let j = this.i;
      for (; j < this.end; j++) {
        const c = b[j]!;
        if (c === quote) {
          this.i = j;
          this.skipString();
          j = this.i - 1;
        } else if (c === openBrace || c === openBracket) {
          depth++;
        } else if (c === closeBrace || c === closeBracket) {
          if (--depth === 0) break;
        }
      }
      if (j >= this.end) throw notFast;
      this.i = j + 1;
      return;
    }
    let j = this.i;
    while (j < this.end && scalarByte(b[j]!)) j++;
    if (j === this.i) throw notFast;
    this.i = j;
  }

  private skipString(): void {
    const b = this.b;
    let j = this.i + 1;
    for (;;) {
      const close = b.indexOf(quote, j);
      if (close < 0 || close >= this.end) throw notFast;
      let backslashes = 0;
      for (let k = close - 1; b[k] === backslash; k--) backslashes++;
      j = close + 1;
      if (backslashes % 2 === 0) break;
    }
    this.i = j;
  }

  /**
   * The first backslash at or after `from` (b.length when none): one search per batch, not per row, so
   * `from` must never go back (the row is read forwards, rows in order).
   */
  private backslashFrom(from: number): number {
    if (this.nextBackslash < from) {
      const at = this.b.indexOf(backslash, from);
      this.nextBackslash = at < 0 ? this.b.length : at;
    }
    return this.nextBackslash;
  }

  private startsWith(bytes: Buffer): boolean {
    if (this.i + bytes.length > this.end) return false;
    for (let k = 0; k < bytes.length; k++) if (this.b[this.i + k] !== bytes[k]) return false;
    return true;
  }

  private literal(word: Buffer): void {
    if (!this.startsWith(word)) throw notFast;
    this.i += word.length;
  }

  private ws(): void {
    const b = this.b;
    while (this.i < this.end) {
      const c = b[this.i]!;
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.i++;
    }
  }

  private expect(byte: number): void {
    if (this.i >= this.end || this.b[this.i] !== byte) throw notFast;
    this.i++;
  }
}

/** RowConverter's errors on a value it was handed: the whole row goes its way, for the error's offsets. */
const fallBackOn = { InvalidRow: true, UnsupportedRow: true };

/** `[-+.0-9a-zA-Z]`: what RowConverter's skipValue takes as a bare scalar. */
function scalarByte(c: number): boolean {
  return (
    c === 0x2d ||
    c === 0x2b ||
    c === 0x2e ||
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a)
  );
}
