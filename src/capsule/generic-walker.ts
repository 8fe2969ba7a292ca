/**
 * Walks stream-json tokens of a whole capsule with constant memory: top-level keys other than `tables`
 * are assembled (they are small), rows are counted and checked to be objects, and — when `emitRows` is
 * set — re-serialised compactly (numbers keep their exact text, since the tokenizer hands them over as
 * text). Structure errors throw a WalkError with a JSON pointer.
 */
export interface Token {
  name: string;
  value?: unknown;
}

export class WalkError extends Error {}

type Place =
  'start' | 'top' | 'header-value' | 'tables-open' | 'tables' | 'table-open' | 'table' | 'row' | 'end';

export class GenericWalker {
  readonly header: Record<string, unknown> = {};
  readonly rowCounts: Record<string, number> = {};
  hasTables = false;
  place: Place = 'start';
  private key = '';
  private table = '';
  private writer = new CompactWriter();
  private depth = 0;

  constructor(private readonly emitRows: boolean) {}

  /** Feeds one token; returns a row when `emitRows` is set and the token completed one. */
  push(token: Token): { table: string; text: string } | undefined {
    switch (this.place) {
      case 'start':
        if (token.name !== 'startObject') throw new WalkError('the top level is not a JSON object');
        this.place = 'top';
        return undefined;
      case 'top':
        if (token.name === 'endObject') {
          this.place = 'end';
          return undefined;
        }
        this.key = token.value as string;
        if (this.key === 'tables') {
          this.hasTables = true;
          this.place = 'tables-open';
        } else {
          this.writer = new CompactWriter();
          this.place = 'header-value';
        }
        return undefined;
      case 'header-value':
        if (this.writer.write(token)) {
          this.header[this.key] = JSON.parse(this.writer.text());
          this.place = 'top';
        }
        return undefined;
      case 'tables-open':
        if (token.name !== 'startObject') throw new WalkError('/tables: must be an object');
        this.place = 'tables';
        return undefined;
      case 'tables':
        if (token.name === 'endObject') {
          this.place = 'top';
          return undefined;
        }
        this.table = token.value as string;
        if (Object.hasOwn(this.rowCounts, this.table))
          throw new WalkError(`/tables: "${this.table}" appears twice`);
        this.rowCounts[this.table] = 0;
        this.place = 'table-open';
        return undefined;
      case 'table-open':
        if (token.name !== 'startArray') throw new WalkError(`/tables/${this.table}: must be an array`);
        this.place = 'table';
        return undefined;
      case 'table':
        if (token.name === 'endArray') {
          this.place = 'tables';
          return undefined;
        }
        if (token.name !== 'startObject') {
          throw new WalkError(`/tables/${this.table}/${this.rowCounts[this.table]}: row is not an object`);
        }
        this.place = 'row';
        this.depth = 1;
        if (this.emitRows) {
          this.writer = new CompactWriter();
          this.writer.write(token);
        }
        return undefined;
      case 'row':
        return this.rowToken(token);
      case 'end':
        throw new WalkError('text after the top-level object');
    }
  }

  private rowToken(token: Token): { table: string; text: string } | undefined {
    if (token.name === 'startObject' || token.name === 'startArray') this.depth++;
    else if (token.name === 'endObject' || token.name === 'endArray') this.depth--;
    if (this.emitRows) this.writer.write(token);
    if (this.depth > 0) return undefined;
    this.rowCounts[this.table]!++;
    this.place = 'table';
    return this.emitRows ? { table: this.table, text: this.writer.text() } : undefined;
  }
}

/** Packed stream-json tokens → compact JSON text of one value. */
export class CompactWriter {
  private parts: string[] = [];
  /** Per open container: true until its first element is written. */
  private first: boolean[] = [];
  private afterKey = false;

  /** Writes a token; true when the value is complete. */
  write(token: Token): boolean {
    switch (token.name) {
      case 'startObject':
      case 'startArray':
        this.separate();
        this.parts.push(token.name === 'startObject' ? '{' : '[');
        this.first.push(true);
        return false;
      case 'endObject':
      case 'endArray':
        this.parts.push(token.name === 'endObject' ? '}' : ']');
        this.first.pop();
        return this.first.length === 0;
      case 'keyValue':
        this.separate();
        this.parts.push(JSON.stringify(token.value), ':');
        this.afterKey = true;
        return false;
      case 'stringValue':
        this.separate();
        this.parts.push(JSON.stringify(token.value));
        return this.first.length === 0;
      case 'numberValue':
        this.separate();
        this.parts.push(token.value as string);
        return this.first.length === 0;
      case 'nullValue':
      case 'trueValue':
      case 'falseValue':
        this.separate();
        this.parts.push(String(token.value));
        return this.first.length === 0;
      default:
        return false; // streamed chunks: the parser is configured to emit packed values only
    }
  }

  text(): string {
    return this.parts.join('');
  }

  private separate(): void {
    if (this.afterKey) {
      this.afterKey = false;
      return;
    }
    const top = this.first.length - 1;
    if (top < 0) return;
    if (!this.first[top]) this.parts.push(',');
    this.first[top] = false;
  }
}
