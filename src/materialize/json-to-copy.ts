/**
 * Converts one capsule row (the JSON text `to_jsonb(row)` gave) into one line of PostgreSQL's COPY text
 * format, in a single pass over the text and without building a JSON value: number spans are copied
 * verbatim (numeric keeps its exact digits), strings are unescaped and COPY-escaped, json/jsonb values
 * are copied as their JSON text, JSON arrays become array literals. It reproduces what
 * `jsonb_populate_record` does with the same row; anything whose outcome it cannot reproduce exactly
 * (an unexpected key, a number with an exponent, an object for a non-json column…) throws
 * {@link UnsupportedRow} so the caller can use the staging path instead.
 */

/** How a target column's values are written. */
export type CopyColumnKind =
  /** Any scalar type read from its text (text, uuid, dates, bytea, enums, …); `numeric`: JSON numbers allowed. */
  | { type: 'scalar'; numeric: boolean }
  /** json/jsonb: the value's JSON text. */
  | { type: 'json' }
  /** An array (any dimensions) of scalars or of json/jsonb values. */
  | { type: 'array'; element: 'scalar' | 'json'; numeric: boolean };

export interface CopyColumn {
  name: string;
  kind: CopyColumnKind;
}

/** The row is valid but the converter cannot load it exactly as the staging path would. */
export class UnsupportedRow extends Error {
  constructor(
    readonly column: string | undefined,
    reason: string,
  ) {
    super(reason);
    this.name = 'UnsupportedRow';
  }
}

/** The row is not valid JSON (or not an object). */
export class InvalidRow extends Error {
  constructor(
    readonly column: string | undefined,
    reason: string,
  ) {
    super(reason);
    this.name = 'InvalidRow';
  }
}

const nullField = '\\N';
// A raw control character is invalid JSON (jsonb_in rejects it) and would break COPY's line framing.
// eslint-disable-next-line no-control-regex -- control characters are what this looks for
const rawControl = /[\u0000-\u001f]/;
const copySpecial = /[\\\n\r\t]/;
const copySpecialAll = /[\\\n\r\t]/g;
const copyEscapes: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const arraySpecialAll = /["\\]/g;

/** Escapes a value for COPY text format: backslash, newline, carriage return, tab. */
export function copyEscape(value: string): string {
  return copySpecial.test(value) ? value.replace(copySpecialAll, (ch) => copyEscapes[ch]!) : value;
}

/** Quotes an array element: always double-quoted (so `NULL`, `""`, braces, commas stay data). */
function quoteElement(value: string): string {
  return `"${value.replace(arraySpecialAll, '\\$&')}"`;
}

/**
 * Converts rows of one table. `columns` are the COPY column list, in order; `skipped` are keys whose
 * values are ignored (generated columns). A key in neither stops with UnsupportedRow; a column a row
 * lacks is NULL, as jsonb_populate_record makes it.
 */
export class RowConverter {
  private readonly index = new Map<string, number>();
  /** Each key as a JSON string (`"name"`), by its position in `index`'s order (skipped keys included). */
  private readonly quoted: string[] = [];
  private readonly positions: number[] = [];
  private readonly names: string[] = [];
  /** The keys of the previous row, in order (indexes into `quoted`): rows repeat their key order. */
  private readonly order: number[] = [];
  private readonly fields: string[];
  private s = '';
  private i = 0;
  /** The next backslash at or after a position already looked at (s.length: none). */
  private backslash = -1;
  private column: string | undefined;
  /** The array literal being written holds an element that may need COPY escaping (a backslash). */
  private arrayEscapes = false;

  constructor(
    private readonly columns: readonly CopyColumn[],
    skipped: Iterable<string> = [],
  ) {
    columns.forEach((column, position) => this.index.set(column.name, position));
    for (const name of skipped) this.index.set(name, -1);
    for (const [name, position] of this.index) {
      this.quoted.push(JSON.stringify(name));
      this.positions.push(position);
      this.names.push(name);
    }
    this.fields = columns.map(() => nullField);
  }

  /** The COPY text line of a row (without the trailing newline). */
  convert(text: string): string {
    this.s = text;
    this.i = 0;
    this.backslash = -1;
    this.column = undefined;
    this.fields.fill(nullField);
    if (rawControl.test(text)) this.invalid('raw control character in the row text');
    if (text.includes('\\u0000')) throw new UnsupportedRow(undefined, '\\u0000 in the row text');
    this.ws();
    this.expect('{');
    this.ws();
    if (this.peek() === '}') {
      this.i++;
    } else {
      for (let k = 0; ; k++) {
        this.ws();
        const key = this.key(k);
        this.ws();
        this.expect(':');
        this.ws();
        if (typeof key === 'string') throw new UnsupportedRow(key, `key "${key}" is not a loaded column`);
        const position = this.positions[key]!;
        this.column = this.names[key];
        if (position < 0) this.skipValue();
        else this.fields[position] = this.value(this.columns[position]!.kind);
        this.column = undefined;
        this.ws();
        const next = this.s[this.i++];
        if (next === '}') break;
        if (next !== ',') this.invalid(`expected , or } at offset ${this.i - 1}`);
      }
    }
    this.ws();
    if (this.i !== this.s.length) this.invalid(`unexpected text after the row at offset ${this.i}`);
    return this.fields.join('\t');
  }

  /**
   * The COPY text of one value of column kind `kind`, the value being all of `text` (json-to-copy-bytes.ts
   * hands over the values it does not convert on the bytes). The row around it was checked by the caller
   * as convert checks it (raw control characters, `\u0000`).
   */
  valueText(text: string, kind: CopyColumnKind): string {
    this.s = text;
    this.i = 0;
    this.backslash = -1;
    this.column = undefined;
    const value = this.value(kind);
    if (this.i !== text.length) this.invalid(`unexpected text after the value at offset ${this.i}`);
    return value;
  }

  /**
   * The `k`th key of the row, as an index into `quoted`: the `k`th key of the previous row when the text
   * has it here, literally (a JSON string's text decodes to one value), else parsed and looked up; a key
   * that is not a loaded column is returned as its text.
   */
  private key(k: number): number | string {
    const guess = this.order[k];
    if (guess !== undefined && this.s.startsWith(this.quoted[guess]!, this.i)) {
      this.i += this.quoted[guess]!.length;
      return guess;
    }
    const key = this.string();
    if (!this.index.has(key)) return key;
    const found = this.names.indexOf(key);
    this.order[k] = found;
    return found;
  }

  private value(kind: CopyColumnKind): string {
    const ch = this.peek();
    if (ch === 'n') {
      this.literal('null');
      return nullField;
    }
    if (kind.type === 'json') {
      const start = this.i;
      this.skipValue();
      // The row has no raw control characters (checked first): a backslash is all COPY must escape.
      const text = this.s.slice(start, this.i);
      return this.backslashFrom(start) < this.i ? text.replaceAll('\\', '\\\\') : text;
    }
    if (ch === '"') {
      // Without a backslash, the string's text is its value and holds nothing COPY escapes.
      const end = this.plainStringEnd();
      if (end > 0) {
        const start = this.i + 1;
        this.i = end + 1;
        return this.s.slice(start, end);
      }
      return copyEscape(this.string());
    }
    if (kind.type === 'array') {
      if (ch !== '[') throw new UnsupportedRow(this.column, 'an array column holds a non-array value');
      this.arrayEscapes = false;
      const literal = this.array(kind, 0);
      // Plain strings, numbers and literals hold nothing COPY escapes (raw control characters were
      // refused up front): only quoted elements with a backslash do.
      return this.arrayEscapes ? copyEscape(literal) : literal;
    }
    if (ch === 't') return this.literal('true');
    if (ch === 'f') return this.literal('false');
    if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) {
      if (!kind.numeric) throw new UnsupportedRow(this.column, 'a number for a non-numeric column');
      return this.number();
    }
    if (ch === '[' || ch === '{')
      throw new UnsupportedRow(this.column, 'a JSON array/object for a scalar column');
    return this.invalid(`unexpected character at offset ${this.i}`);
  }

  /** A JSON array as an array literal (nested arrays are dimensions, as jsonb_populate_record reads them). */
  private array(kind: { element: 'scalar' | 'json'; numeric: boolean }, depth: number): string {
    this.expect('[');
    this.ws();
    if (this.peek() === ']') {
      this.i++;
      if (depth > 0) throw new UnsupportedRow(this.column, 'an empty inner array');
      return '{}';
    }
    let out = '{';
    for (;;) {
      this.ws();
      const ch = this.peek();
      if (ch === '[') {
        out += this.array(kind, depth + 1);
      } else if (ch === 'n') {
        this.literal('null');
        out += 'NULL';
      } else if (kind.element === 'json') {
        const start = this.i;
        this.skipValue();
        this.arrayEscapes = true;
        out += quoteElement(this.s.slice(start, this.i));
      } else if (ch === '"') {
        const end = this.plainStringEnd();
        if (end > 0) {
          // Without a backslash (nor a quote, nor raw control characters) the JSON string's text,
          // quotes included, is the quoted element.
          out += this.s.slice(this.i, end + 1);
          this.i = end + 1;
        } else {
          this.arrayEscapes = true;
          out += quoteElement(this.string());
        }
      } else if (ch === 't') {
        out += this.literal('true');
      } else if (ch === 'f') {
        out += this.literal('false');
      } else if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) {
        if (!kind.numeric) throw new UnsupportedRow(this.column, 'a number in a non-numeric array');
        out += this.number();
      } else if (ch === '{') {
        throw new UnsupportedRow(this.column, 'a JSON object in a non-json array');
      } else {
        this.invalid(`unexpected character at offset ${this.i}`);
      }
      this.ws();
      const next = this.s[this.i++];
      if (next === ']') return `${out}}`;
      if (next !== ',') this.invalid(`expected , or ] at offset ${this.i - 1}`);
      out += ',';
    }
  }

  /** The span of a JSON number, verbatim; exponents are left to the staging path (int columns reject them). */
  private number(): string {
    const start = this.i;
    const s = this.s;
    let j = this.i;
    if (s[j] === '-') j++;
    const digits = j;
    while (j < s.length && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
    if (j === digits) this.invalid(`invalid number at offset ${start}`);
    if (s[j] === '.') {
      const fraction = ++j;
      while (j < s.length && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
      if (j === fraction) this.invalid(`invalid number at offset ${start}`);
    }
    if (s[j] === 'e' || s[j] === 'E') throw new UnsupportedRow(this.column, 'a number with an exponent');
    this.i = j;
    return s.slice(start, j);
  }

  /** A JSON string at the cursor, unescaped. */
  private string(): string {
    this.expect('"');
    const s = this.s;
    const start = this.i;
    const end = s.indexOf('"', start);
    if (end < 0) this.invalid('unterminated string');
    const backslash = this.backslashFrom(start);
    if (backslash > end) {
      this.i = end + 1;
      return s.slice(start, end);
    }
    let out = s.slice(start, backslash);
    let j = backslash;
    for (;;) {
      const ch = s[j];
      if (ch === '"') {
        this.i = j + 1;
        return out;
      }
      if (ch === undefined) this.invalid('unterminated string');
      if (ch !== '\\') {
        // Copy the run up to the next quote or backslash in one slice.
        let k = j + 1;
        while (k < s.length && s[k] !== '"' && s[k] !== '\\') k++;
        out += s.slice(j, k);
        j = k;
        continue;
      }
      const escape = s[j + 1];
      switch (escape) {
        case '"':
        case '\\':
        case '/':
          out += escape;
          j += 2;
          break;
        case 'b':
          out += '\b';
          j += 2;
          break;
        case 'f':
          out += '\f';
          j += 2;
          break;
        case 'n':
          out += '\n';
          j += 2;
          break;
        case 'r':
          out += '\r';
          j += 2;
          break;
        case 't':
          out += '\t';
          j += 2;
          break;
        case 'u': {
          const code = this.hex4(j + 2);
          j += 6;
          if (code >= 0xd800 && code <= 0xdbff) {
            // A high surrogate must be followed by a low one (jsonb_in rejects a lone surrogate).
            const low = s[j] === '\\' && s[j + 1] === 'u' ? this.hex4(j + 2) : -1;
            if (low < 0xdc00 || low > 0xdfff) this.invalid('lone Unicode surrogate in a string');
            out += String.fromCharCode(code, low);
            j += 6;
          } else if (code >= 0xdc00 && code <= 0xdfff) {
            this.invalid('lone Unicode surrogate in a string');
          } else {
            out += String.fromCharCode(code);
          }
          break;
        }
        default:
          this.invalid(`invalid escape in a string at offset ${j}`);
      }
    }
  }

  /** The closing quote of the string at the cursor when it holds no backslash (its text is its value), else -1. */
  private plainStringEnd(): number {
    const end = this.s.indexOf('"', this.i + 1);
    return end > 0 && this.backslashFrom(this.i) > end ? end : -1;
  }

  /** The position of the first backslash at or after `from` (the text's length when there is none). */
  private backslashFrom(from: number): number {
    if (this.backslash < from) {
      const at = this.s.indexOf('\\', from);
      this.backslash = at < 0 ? this.s.length : at;
    }
    return this.backslash;
  }

  private hex4(at: number): number {
    const digits = this.s.slice(at, at + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(digits)) this.invalid(`invalid \\u escape at offset ${at}`);
    return Number.parseInt(digits, 16);
  }

  /** Moves past one JSON value (its text is validated by the server when it is a json/jsonb value). */
  private skipValue(): void {
    const s = this.s;
    const ch = s[this.i];
    if (ch === '"') {
      this.skipString();
      return;
    }
    if (ch === '{' || ch === '[') {
      let depth = 0;
      let j = this.i;
      for (; j < s.length; j++) {
        const c = s.charCodeAt(j);
        if (c === 34) {
          this.i = j;
          this.skipString();
          j = this.i - 1;
        } else if (c === 123 || c === 91) {
          depth++;
        } else if (c === 125 || c === 93) {
          if (--depth === 0) break;
        }
      }
      if (j >= s.length) this.invalid('unterminated object or array');
      this.i = j + 1;
      return;
    }
    let j = this.i;
    while (j < s.length && /[-+.0-9a-zA-Z]/.test(s[j]!)) j++;
    if (j === this.i) this.invalid(`unexpected character at offset ${this.i}`);
    this.i = j;
  }

  private skipString(): void {
    const s = this.s;
    let j = this.i + 1;
    for (;;) {
      const end = s.indexOf('"', j);
      if (end < 0) this.invalid('unterminated string');
      let backslashes = 0;
      for (let k = end - 1; s[k] === '\\'; k--) backslashes++;
      j = end + 1;
      if (backslashes % 2 === 0) break;
    }
    this.i = j;
  }

  private literal(word: 'true' | 'false' | 'null'): string {
    if (!this.s.startsWith(word, this.i)) this.invalid(`unexpected character at offset ${this.i}`);
    this.i += word.length;
    return word;
  }

  private ws(): void {
    const s = this.s;
    let c = s.charCodeAt(this.i);
    while (c === 32 || c === 10 || c === 13 || c === 9) c = s.charCodeAt(++this.i);
  }

  private peek(): string | undefined {
    return this.s[this.i];
  }

  private expect(ch: string): void {
    if (this.s[this.i] !== ch) this.invalid(`expected ${ch} at offset ${this.i}`);
    this.i++;
  }

  private invalid(reason: string): never {
    throw new InvalidRow(this.column, reason);
  }
}
