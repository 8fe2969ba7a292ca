/**
 * A line-by-line state machine for replay-env's line layout (docs/capsule-format.md). Rows are never
 * JSON-parsed here: a row line is recognised by its indentation and braces and handed on as text, which is
 * what makes reading a capsule about as fast as reading the file. Anything that breaks the layout throws a
 * LayoutBreak naming the line, so the caller can fall back to the generic parser (before the first row)
 * or report corruption (after it).
 */
export class LayoutBreak extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
  }
}

type State = 'open' | 'version' | 'layout' | 'header' | 'graph' | 'tables' | 'rows' | 'trailer' | 'done';

export const lineLayoutLines = {
  open: '{',
  version: '  "schemaVersion": 1,',
  layout: '  "layout": "replay-env/rows-per-line/v1",',
};

export class LineLayoutParser {
  state: State = 'open';
  line = 0;
  /** Top-level keys before `tables` (the header), with `graph`. */
  readonly header: Record<string, unknown> = { schemaVersion: 1, layout: 'replay-env/rows-per-line/v1' };
  /** Top-level keys after `tables` (the trailer: `integrity`). */
  readonly trailer: Record<string, unknown> = {};
  /** Table whose rows are being read. */
  table = '';
  readonly tables: string[] = [];
  private readonly graph: unknown[] = [];
  /** The previous element line ended with a comma, so another element must follow. */
  private pendingComma = false;
  private hasElement = false;
  private rowsSeen = false;

  /** Feeds one line (without its newline); returns the row text when the line is a row. */
  push(text: string): string | undefined {
    this.line++;
    switch (this.state) {
      case 'open':
        this.expect(text, lineLayoutLines.open, 'version');
        return undefined;
      case 'version':
        this.expect(text, lineLayoutLines.version, 'layout');
        return undefined;
      case 'layout':
        this.expect(text, lineLayoutLines.layout, 'header');
        return undefined;
      case 'header':
        this.headerLine(text);
        return undefined;
      case 'graph':
        this.graphLine(text);
        return undefined;
      case 'tables':
        this.tablesLine(text);
        return undefined;
      case 'rows':
        return this.rowLine(text);
      case 'trailer':
        if (text === '}') this.state = 'done';
        else Object.assign(this.trailer, this.keyLine(text));
        return undefined;
      case 'done':
        if (text.trim() !== '') this.fail('text after the closing "}"');
        return undefined;
    }
  }

  /**
   * The fast path for a row line given as bytes (`buf[start, end)`, without its newline): when the line
   * is a row line of the current table (six spaces, then `{`), checks it as {@link push} would and
   * returns where the row's text ends (it starts at `start + 6`); else returns -1 without consuming the
   * line, which the caller then feeds to `push` as text.
   */
  rowEnd(buf: Buffer, start: number, end: number): number {
    if (this.state !== 'rows' || end - start < 8 || buf[start + 6] !== 0x7b) return -1;
    for (let at = start; at < start + 6; at++) if (buf[at] !== 0x20) return -1;
    this.line++;
    if (this.rowsSeen && !this.pendingComma) this.fail('missing comma after the previous row');
    this.pendingComma = buf[end - 1] === 0x2c;
    const rowEnd = this.pendingComma ? end - 1 : end;
    if (buf[rowEnd - 1] !== 0x7d) this.fail(`a row of "${this.table}" is not a JSON object on one line`);
    this.rowsSeen = true;
    return rowEnd;
  }

  /** Where the parser stopped, for a truncation message. */
  position(): string {
    const where: Record<State, string> = {
      open: 'before the capsule starts',
      version: 'in the header',
      layout: 'in the header',
      header: 'in the header',
      graph: 'in the graph',
      tables: 'in the tables',
      rows: `in table "${this.table}"`,
      trailer: 'in the integrity trailer',
      done: 'after the end',
    };
    return where[this.state];
  }

  private expect(text: string, wanted: string, next: State): void {
    if (text !== wanted) this.fail(`expected ${JSON.stringify(wanted)}`);
    this.state = next;
  }

  private headerLine(text: string): void {
    if (text === '  "tables": {') {
      this.state = 'tables';
      this.pendingComma = false;
      this.hasElement = false;
    } else if (text === '  "graph": [') {
      this.state = 'graph';
      this.pendingComma = false;
      this.hasElement = false;
    } else {
      const entry = this.keyLine(text);
      if ('tables' in entry) this.fail('"tables" must open on its own line');
      Object.assign(this.header, entry);
    }
  }

  private graphLine(text: string): void {
    if (text === '  ],') {
      if (this.pendingComma) this.fail('the graph ends after a comma');
      this.header.graph = this.graph;
      this.state = 'header';
      return;
    }
    if (!text.startsWith('    {')) this.fail('expected a graph entry or "  ],"');
    if (this.hasElement && !this.pendingComma) this.fail('missing comma after the previous graph entry');
    this.hasElement = true;
    const entry = this.element(text.slice(4));
    try {
      this.graph.push(JSON.parse(entry));
    } catch {
      this.fail('graph entry is not valid JSON');
    }
  }

  private tablesLine(text: string): void {
    if (text === '  },' || text === '  }') {
      if (this.pendingComma) this.fail('the tables end after a comma');
      this.state = 'trailer';
      return;
    }
    const match = /^ {4}("(?:[^"\\]|\\.)*"): \[(\],?)?$/.exec(text);
    if (!match) this.fail('expected "    \\"<table>\\": [" or "  },"');
    if (this.hasElement && !this.pendingComma) this.fail('missing comma before this table');
    let name: string;
    try {
      name = JSON.parse(match![1]!) as string;
    } catch {
      this.fail('table name is not a JSON string');
    }
    this.table = name!;
    this.tables.push(name!);
    this.hasElement = true;
    if (match![2]) {
      this.pendingComma = match![2] === '],';
      return;
    }
    this.state = 'rows';
    this.pendingComma = false;
    this.rowsSeen = false;
  }

  private rowLine(text: string): string | undefined {
    if (text === '    ]' || text === '    ],') {
      if (this.pendingComma) this.fail(`table "${this.table}" ends after a comma`);
      this.state = 'tables';
      this.pendingComma = text === '    ],';
      this.hasElement = true;
      return undefined;
    }
    if (!text.startsWith('      ')) this.fail(`expected a row of "${this.table}" or "    ]"`);
    if (this.rowsSeen && !this.pendingComma) this.fail('missing comma after the previous row');
    const row = this.element(text.slice(6));
    if (row.charCodeAt(0) !== 0x7b || row.charCodeAt(row.length - 1) !== 0x7d) {
      this.fail(`a row of "${this.table}" is not a JSON object on one line`);
    }
    this.rowsSeen = true;
    return row;
  }

  /** Strips the separating comma and remembers whether there was one. */
  private element(text: string): string {
    if (this.state !== 'tables' && this.state !== 'rows' && this.state !== 'graph') return text;
    this.pendingComma = text.endsWith(',');
    return this.pendingComma ? text.slice(0, -1) : text;
  }

  /** `  "key": <compact JSON>,` → `{ key: value }`. */
  private keyLine(text: string): Record<string, unknown> {
    if (!text.startsWith('  "')) this.fail('expected `  "<key>": <value>,`');
    const body = text.endsWith(',') ? text.slice(2, -1) : text.slice(2);
    try {
      const parsed = JSON.parse(`{${body}}`) as Record<string, unknown>;
      if (Object.keys(parsed).length !== 1) throw new Error('not one key');
      return parsed;
    } catch {
      this.fail('expected `  "<key>": <value on one line>,`');
    }
  }

  private fail(reason: string): never {
    throw new LayoutBreak(this.line, reason);
  }
}
