/**
 * The text PostgreSQL's `jsonb` output gives for a JSON text (`'…'::jsonb::text`), computed on the
 * client: object keys in jsonb order (shorter first by UTF-8 length, then bytewise) with the last of
 * duplicate keys kept, `": "` and `", "` separators, strings escaped as jsonb escapes them, numbers as
 * `numeric` prints them (`-0` → `0`, `1e2` → `100`, `1.50` stays `1.50`). Value verification
 * (value-digest.ts) hashes this text on both sides of a load, so it must match the server's byte for
 * byte for every capsule row replay-env writes; where it does not (a text form the server would print
 * differently), the verification finds a difference and then compares the rows on the server, exactly.
 *
 * A hand-written recursive-descent parser because it runs once per loaded row: it keeps number spans
 * verbatim (JSON.parse would round them) and copies strings without escapes as they are.
 *
 * @example canonicalJson('{"b":1,"aa":[true,-0],"a":"x"}') === '{"a": "x", "b": 1, "aa": [true, 0]}'
 */
export function canonicalJson(text: string, drop?: ReadonlySet<string>): string {
  const parser = new Parser(text);
  parser.space();
  const out = parser.value(drop);
  parser.space();
  if (parser.at < text.length) throw new SyntaxError(`unexpected text at ${parser.at}`);
  return out;
}

const hex = '0123456789abcdef';
const jsonNumber = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const words = ['true', 'false', 'null'];

class Parser {
  at = 0;
  /** The next backslash at or after a position already looked at (text.length: none). */
  private backslash = -1;
  constructor(private readonly text: string) {}

  space(): void {
    const { text } = this;
    let code = text.charCodeAt(this.at);
    while (code === 32 || code === 10 || code === 13 || code === 9) code = text.charCodeAt(++this.at);
  }

  value(drop?: ReadonlySet<string>): string {
    const code = this.text.charCodeAt(this.at);
    if (code === 123) return this.object(drop);
    if (code === 91) return this.array();
    if (code === 34) return quoteJsonString(this.string());
    if (code === 45 || (code >= 48 && code <= 57)) return this.number();
    for (const word of words) {
      if (this.text.startsWith(word, this.at)) {
        this.at += word.length;
        return word;
      }
    }
    throw new SyntaxError(`unexpected character at ${this.at}`);
  }

  object(drop?: ReadonlySet<string>): string {
    this.at++;
    const entries = new Map<string, string>();
    this.space();
    if (this.text.charCodeAt(this.at) === 125) {
      this.at++;
      return '{}';
    }
    for (;;) {
      this.space();
      if (this.text.charCodeAt(this.at) !== 34) throw new SyntaxError(`expected a key at ${this.at}`);
      const key = this.string();
      this.space();
      if (this.text.charCodeAt(this.at) !== 58) throw new SyntaxError(`expected ':' at ${this.at}`);
      this.at++;
      this.space();
      const value = this.value();
      // jsonb keeps the last of duplicate keys.
      entries.delete(key);
      if (!drop?.has(key)) entries.set(key, value);
      this.space();
      const next = this.text.charCodeAt(this.at++);
      if (next === 125) break;
      if (next !== 44) throw new SyntaxError(`expected ',' or '}' at ${this.at - 1}`);
    }
    const keys = [...entries.keys()].sort(compareKeys);
    return `{${keys.map((key) => `${quoteJsonString(key)}: ${entries.get(key)!}`).join(', ')}}`;
  }

  array(): string {
    this.at++;
    this.space();
    if (this.text.charCodeAt(this.at) === 93) {
      this.at++;
      return '[]';
    }
    const items: string[] = [];
    for (;;) {
      this.space();
      items.push(this.value());
      this.space();
      const next = this.text.charCodeAt(this.at++);
      if (next === 93) break;
      if (next !== 44) throw new SyntaxError(`expected ',' or ']' at ${this.at - 1}`);
    }
    return `[${items.join(', ')}]`;
  }

  /** The decoded string at `at` (which is its opening quote). */
  string(): string {
    const { text } = this;
    const start = ++this.at;
    const end = text.indexOf('"', start);
    if (end < 0) throw new SyntaxError(`unterminated string at ${start}`);
    // One scan for backslashes per row, not one to the row's end per string.
    if (this.backslash < start) {
      const slash = text.indexOf('\\', start);
      this.backslash = slash < 0 ? text.length : slash;
    }
    if (this.backslash > end) {
      this.at = end + 1;
      return text.slice(start, end);
    }
    let out = '';
    let at = start;
    for (;;) {
      const code = text.charCodeAt(at);
      if (Number.isNaN(code)) throw new SyntaxError(`unterminated string at ${start}`);
      if (code === 34) break;
      if (code !== 92) {
        out += text[at++];
        continue;
      }
      const escape = text[at + 1];
      at += 2;
      if (escape === 'u') {
        out += String.fromCharCode(parseInt(text.slice(at, at + 4), 16));
        at += 4;
      } else {
        const simple = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }[
          escape ?? ''
        ];
        if (simple === undefined) throw new SyntaxError(`bad escape at ${at - 2}`);
        out += simple;
      }
    }
    this.at = at + 1;
    return out;
  }

  number(): string {
    const match = jsonNumber;
    match.lastIndex = this.at;
    const found = match.exec(this.text);
    if (!found) throw new SyntaxError(`bad number at ${this.at}`);
    this.at += found[0].length;
    return numericText(found[0]);
  }
}

// eslint-disable-next-line no-control-regex -- the whole ASCII range, control characters included
const ascii = /^[\x00-\x7f]*$/;
// eslint-disable-next-line no-control-regex -- control characters are what jsonb escapes
const needsEscape = /["\\\x00-\x1f]/;

/** jsonb key order: shorter (in UTF-8 bytes) first, then bytewise. */
export function compareKeys(a: string, b: string): number {
  if (ascii.test(a) && ascii.test(b)) {
    if (a.length !== b.length) return a.length - b.length;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length - right.length || Buffer.compare(left, right);
}

/** A string as jsonb prints it: `"`, `\`, and control characters escaped; everything else as is. */
export function quoteJsonString(value: string): string {
  if (!needsEscape.test(value)) return `"${value}"`;
  let out = '"';
  for (const char of value) {
    const code = char.charCodeAt(0);
    if (char === '"') out += '\\"';
    else if (char === '\\') out += '\\\\';
    else if (code === 8) out += '\\b';
    else if (code === 12) out += '\\f';
    else if (code === 10) out += '\\n';
    else if (code === 13) out += '\\r';
    else if (code === 9) out += '\\t';
    else if (code < 32) out += `\\u00${hex[code >> 4]}${hex[code & 15]}`;
    else out += char;
  }
  return `${out}"`;
}

/**
 * A JSON number as PostgreSQL's numeric prints it: no negative zero, no exponent (the digits it
 * stands for, with max(0, fraction digits − exponent) decimals, as numeric_in keeps).
 */
export function numericText(text: string): string {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match) return text;
  const [, sign, whole, fraction = '', exponentText] = match;
  let digits = whole! + fraction;
  let point = whole!.length;
  let scale = fraction.length;
  if (exponentText !== undefined) {
    const exponent = Number(exponentText);
    point += exponent;
    scale = Math.max(0, scale - exponent);
  }
  if (point <= 0) {
    digits = '0'.repeat(1 - point) + digits;
    point = 1;
  }
  if (digits.length < point + scale) digits += '0'.repeat(point + scale - digits.length);
  let integer = digits.slice(0, point).replace(/^0+(?=\d)/, '');
  const decimals = digits.slice(point, point + scale);
  if (integer === '') integer = '0';
  const zero = /^0*$/.test(integer + decimals);
  return `${sign && !zero ? '-' : ''}${integer}${scale > 0 ? `.${decimals}` : ''}`;
}
