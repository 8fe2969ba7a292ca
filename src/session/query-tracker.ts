import type { CopyIn, QueryError } from '../generated/session.js';
import type { BackendEvent, ColumnDescription } from './backend-decoder.js';
import type { CopyCapture } from './copy-data-file.js';
import { formatAt, type FrontendMessage } from './frontend-decoder.js';
import { type OversizedMessage, OversizedMessageReader } from './oversized-message.js';
import { defaultMaxRecordedRows, ResultSet, textDecoderFor } from './result-set.js';

export interface TrackedQuery {
  queryNumber: number;
  sql: string;
  /** Extended protocol only. */
  statement?: string;
  params?: (string | null)[];
  paramFormats?: (0 | 1)[];
  /** Parameter type OIDs the client declared in Parse (0 = let the server infer). */
  paramTypes?: number[];
  /** Why replay cannot run this one (a fastpath function call). */
  unreplayable?: string;
  /** A message of it was too big to hold: only its start (in `sql`), size and digest are known. */
  oversized?: Oversized;
  startedAt: number;
}

export interface TrackedResult {
  queryNumber: number;
  columns: string[];
  rows: (string | null)[][];
  rowCount: number;
  commandTag: string | null;
  error: QueryError | null;
  durationMs: number;
  /** Rows beyond the cap were counted and digested, not kept. */
  truncated?: boolean;
  digest?: string;
  /** Not executed: an earlier statement of the same pipeline failed. */
  skipped?: boolean;
  /** Fetched in several Execute batches (portal suspended in between). */
  batches?: number;
  /** Binary columns kept as \x hex (no decoder for their type). */
  undecodedColumns?: string[];
  /** COPY FROM STDIN: where the data the client sent is recorded. */
  copyIn?: CopyIn;
}

/** A query as the tracker first sees it; `#open` numbers and stamps it. */
type NewQuery = Omit<TrackedQuery, 'queryNumber' | 'startedAt'>;

interface Oversized {
  bytes: number;
  digest: string;
}
interface Described {
  columns?: ColumnDescription[];
  oversized?: Oversized;
}
interface Statement extends Described {
  sql: string;
  paramTypes: number[];
}
interface Portal extends Described {
  statementName: string;
  statement: Statement | undefined;
  params: (string | null)[];
  paramFormats: (0 | 1)[];
  /** Bind's result format codes: a statement's Describe always says text, the Bind decides. */
  resultFormats: number[];
  /** The logical query of a portal suspended by Execute's row limit, continued by the next Execute. */
  suspended?: OpenQuery;
}
interface OpenQuery {
  query: TrackedQuery;
  portal?: Portal;
  current: ResultSet | undefined;
  /** Simple protocol: the last completed result of a multi-statement query string. */
  last: ResultSet | undefined;
  error: QueryError | null;
  skipped?: boolean;
  batches: number;
  copyIn?: CopyCapture;
}

type Pending =
  | { kind: 'parse' | 'bind' | 'close' | 'sync' }
  | { kind: 'describe'; target: Described | undefined }
  | { kind: 'execute' | 'query' | 'fastpath'; open: OpenQuery };

/**
 * Follows a Postgres session from both sides and turns it into query/result pairs. Every frontend
 * message that the server answers is queued; server messages are matched against the head of the queue
 * — which is how the protocol itself works, and why pipelined extended-protocol batches pair up
 * correctly. After an error the server skips to the next Sync: the Execute that failed (or the first
 * one after a failed Parse/Bind) carries the error, the later ones are recorded as skipped. Execute
 * with a row limit that suspends the portal is one logical query across its batches. A simple-protocol
 * string with several statements is one query whose recorded result is its last statement's.
 * Text is decoded in the session's client_encoding; binary columns by type.
 */
export class QueryTracker {
  #queryNumber = 0;
  readonly #pending: Pending[] = [];
  readonly #statements = new Map<string, Statement>();
  readonly #portals = new Map<string, Portal>();
  decodeText: (bytes: Buffer) => string = (bytes) => bytes.toString('utf8');
  #timeZone: string | undefined;
  /** The query whose COPY FROM STDIN data the client is sending. */
  #copying: OpenQuery | undefined;
  /** A message being streamed through in parts (too big to hold). */
  #large: OversizedMessageReader | undefined;

  constructor(
    private readonly handlers: {
      onQuery: (query: TrackedQuery) => void;
      onResult: (result: TrackedResult) => void;
      /** The client encoding changed (SET client_encoding): frontend text must follow. */
      onEncoding?: (decode: (bytes: Buffer) => string) => void;
    },
    private readonly options: {
      maxRows?: number;
      redact?: (columns: string[], rows: (string | null)[][]) => (string | null)[][];
      /** Records the data of a COPY FROM STDIN (absent: not recorded). */
      copyIn?: () => CopyCapture;
    } = {},
  ) {}

  get queryCount(): number {
    return this.#queryNumber;
  }

  /** Applies a server setting (from login or ParameterStatus). */
  setting(name: string, value: string): void {
    if (name === 'client_encoding') {
      this.decodeText = textDecoderFor(value);
      this.handlers.onEncoding?.(this.decodeText);
    } else if (name === 'TimeZone') this.#timeZone = value;
  }

  /** Call for each client message before it is forwarded to the target. */
  frontend(message: FrontendMessage): void {
    switch (message.type) {
      case 'query':
        this.#pending.push({ kind: 'query', open: this.#open({ sql: message.sql }) });
        break;
      case 'parse':
        this.#statements.set(message.statement, { sql: message.sql, paramTypes: message.paramTypes });
        this.#pending.push({ kind: 'parse' });
        break;
      case 'bind': {
        const paramFormats = message.params.map((_, index) =>
          formatAt(message.paramFormats, index) === 1 ? 1 : 0,
        );
        this.#portals.set(message.portal, {
          statementName: message.statement,
          statement: this.#statements.get(message.statement),
          params: message.params.map((value, index) =>
            value === null
              ? null
              : paramFormats[index] === 1
                ? `\\x${value.toString('hex')}`
                : this.decodeText(value),
          ),
          paramFormats,
          resultFormats: message.resultFormats,
        });
        this.#pending.push({ kind: 'bind' });
        break;
      }
      case 'describe':
        this.#pending.push({
          kind: 'describe',
          target:
            message.target === 'S' ? this.#statements.get(message.name) : this.#portals.get(message.name),
        });
        break;
      case 'execute':
        this.#execute(message.portal);
        break;
      case 'close':
        (message.target === 'S' ? this.#statements : this.#portals).delete(message.name);
        this.#pending.push({ kind: 'close' });
        break;
      case 'part':
        this.#part(message);
        break;
      case 'sync':
        // The server ignores Sync during COPY FROM STDIN (libpq sends another after the data).
        if (!this.#copying) this.#pending.push({ kind: 'sync' });
        break;
      case 'other':
        if (message.code === 'd') this.#copying?.copyIn?.data(message.raw.subarray(5));
        else if (message.code === 'c' || message.code === 'f') {
          if (message.code === 'f')
            this.#copying?.copyIn?.fail(copyFailMessage(message.raw, this.decodeText));
          this.#copying = undefined;
        } else if (message.code === 'F') {
          const oid = message.raw.length >= 9 ? message.raw.readUInt32BE(5) : 0;
          const open = this.#open({
            sql: `/* fastpath function call, function oid ${oid} */`,
            unreplayable: 'fastpath function call (large objects or similar): not replayable',
          });
          this.#pending.push({ kind: 'fastpath', open });
        }
        break;
      default:
        break;
    }
  }

  #part(message: Extract<FrontendMessage, { type: 'part' }>): void {
    const body = message.first ? message.raw.subarray(5) : message.raw;
    if (message.code === 'd') {
      this.#copying?.copyIn?.data(body);
      return;
    }
    if (message.first) this.#large = new OversizedMessageReader(message.code);
    this.#large?.add(body);
    if (message.last && this.#large) {
      const large = this.#large.end();
      this.#large = undefined;
      this.#oversized(large);
    }
  }

  /** An oversized Query/Parse/Bind/FunctionCall: tracked as usual, marked, with what is known of it. */
  #oversized(message: OversizedMessage): void {
    const oversized = { bytes: message.bytes, digest: message.digest };
    const [first, second] = cstrings(message.head, 2).map((bytes) => this.decodeText(bytes));
    switch (message.code) {
      case 'Q':
        this.#pending.push({
          kind: 'query',
          open: this.#open({ sql: this.decodeText(message.head), oversized }),
        });
        break;
      case 'P':
        this.#statements.set(first ?? '', { sql: second ?? '', paramTypes: [], oversized });
        this.#pending.push({ kind: 'parse' });
        break;
      case 'B':
        this.#portals.set(first ?? '', {
          statementName: second ?? '',
          statement: this.#statements.get(second ?? ''),
          params: [],
          paramFormats: [],
          resultFormats: [],
          oversized,
        });
        this.#pending.push({ kind: 'bind' });
        break;
      case 'F':
        this.#pending.push({
          kind: 'fastpath',
          open: this.#open({
            sql: '/* fastpath function call */',
            unreplayable: 'fastpath function call',
            oversized,
          }),
        });
        break;
      default:
        break;
    }
  }

  #execute(portalName: string): void {
    const portal = this.#portals.get(portalName);
    if (portal?.suspended) {
      portal.suspended.batches += 1;
      this.#pending.push({ kind: 'execute', open: portal.suspended });
      return;
    }
    const statement = portal?.statement;
    const query: NewQuery = {
      sql: statement?.sql ?? '',
      statement: portal?.statementName ?? '',
      params: portal?.params ?? [],
    };
    if (portal?.paramFormats.includes(1)) query.paramFormats = portal.paramFormats;
    if (statement?.paramTypes.some((oid) => oid !== 0)) query.paramTypes = statement.paramTypes;
    const oversized = portal?.oversized ?? statement?.oversized;
    if (oversized) query.oversized = oversized;
    const open = this.#open(query);
    open.portal = portal;
    this.#pending.push({ kind: 'execute', open });
  }

  /** Call for each server message, before its bytes are forwarded to the client. */
  backend(message: BackendEvent): void {
    const head = this.#pending[0];
    switch (message.name) {
      case 'parameterStatus':
        this.setting(message.parameterName, message.parameterValue);
        break;
      case 'parseComplete':
      case 'bindComplete':
      case 'closeComplete':
        if (head && head.kind !== 'query' && head.kind !== 'execute') this.#pending.shift();
        break;
      case 'rowDescription':
        if (head?.kind === 'describe') {
          if (head.target) head.target.columns = message.fields;
          // Drivers (pgJDBC) describe a portal once, then Bind/Execute its statement without Describe:
          // remember the columns on the statement too.
          const statement = (head.target as Partial<Portal> | undefined)?.statement;
          if (statement && !statement.columns) statement.columns = message.fields;
          this.#pending.shift();
        } else if (head?.kind === 'query') {
          head.open.current = this.#newSet(message.fields);
        }
        break;
      case 'noData':
        if (head?.kind === 'describe') {
          if (head.target) head.target.columns = [];
          this.#pending.shift();
        }
        break;
      case 'dataRow':
        if (head?.kind === 'query' || head?.kind === 'execute')
          this.#resultSet(head.open).add(message.values);
        break;
      case 'portalSuspended':
        if (head?.kind === 'execute') {
          this.#resultSet(head.open);
          if (head.open.portal) head.open.portal.suspended = head.open;
          this.#pending.shift();
        }
        break;
      case 'commandComplete':
      case 'emptyQuery':
        if (head?.kind === 'query' || head?.kind === 'execute') {
          const set = this.#resultSet(head.open);
          set.tag = message.name === 'commandComplete' ? message.text : null;
          head.open.last = set;
          head.open.current = undefined;
          if (head.kind === 'execute') {
            if (head.open.portal) head.open.portal.suspended = undefined;
            this.#finish(this.#pending.shift() as { open: OpenQuery });
          }
        }
        break;
      case 'copyInResponse':
        if (head?.kind === 'query' || head?.kind === 'execute') {
          head.open.copyIn = this.options.copyIn?.();
          this.#copying = head.open;
          // A Sync the client sent with the Execute reaches the server in copy mode: it is ignored.
          for (let index = this.#pending.length - 1; index > 0; index -= 1)
            if (this.#pending[index]!.kind === 'sync') this.#pending.splice(index, 1);
        }
        break;
      case 'copyOutResponse':
        // COPY TO: each CopyData message is one row of a one-column result ("copy"), capped like rows.
        if (head?.kind === 'query' || head?.kind === 'execute')
          head.open.current = this.#newSet([
            { name: 'copy', typeOid: message.format === 1 ? byteaOid : textOid, format: message.format },
          ]);
        break;
      case 'copyData':
        if (head?.kind === 'query' || head?.kind === 'execute')
          this.#resultSet(head.open).add([message.data]);
        break;
      case 'error':
        this.#copying = undefined;
        this.#error({ code: message.code, message: message.message, severity: message.severity });
        break;
      case 'readyForQuery':
        // Everything up to and including the query/sync that this answers is done.
        while (this.#pending.length > 0) {
          const item = this.#pending.shift()!;
          if (item.kind === 'query' || item.kind === 'execute' || item.kind === 'fastpath')
            this.#finish(item);
          if (item.kind === 'query' || item.kind === 'sync' || item.kind === 'fastpath') break;
        }
        // Outside a transaction block the portals are gone: a query left suspended ends here.
        if (message.status === 'I') this.#endSuspended();
        break;
      default:
        break;
    }
  }

  /** At session end: records queries whose outcome the client has seen but whose ReadyForQuery never came. */
  flush(): void {
    for (const item of this.#pending.splice(0)) {
      if ('open' in item && (item.open.error || item.open.last || item.open.portal?.suspended === item.open))
        this.#finish(item);
    }
    this.#endSuspended();
  }

  #endSuspended(): void {
    for (const portal of this.#portals.values()) {
      const open = portal.suspended;
      portal.suspended = undefined;
      if (open) this.#finish({ open });
    }
  }

  #open(query: NewQuery): OpenQuery {
    this.#queryNumber += 1;
    const tracked = query as TrackedQuery;
    tracked.queryNumber = this.#queryNumber;
    tracked.startedAt = Date.now();
    this.handlers.onQuery(tracked);
    return { query: tracked, current: undefined, last: undefined, error: null, batches: 1 };
  }

  #newSet(columns: ColumnDescription[]): ResultSet {
    return new ResultSet(
      columns,
      this.options.maxRows ?? defaultMaxRecordedRows,
      this.decodeText,
      this.#timeZone,
      this.options.redact,
    );
  }

  #resultSet(open: OpenQuery): ResultSet {
    // Extended protocol: the columns come from the Describe of the portal or of its statement.
    open.current ??= this.#newSet(portalColumns(open.portal));
    return open.current;
  }

  #error(error: QueryError): void {
    const head = this.#pending[0];
    if (head?.kind === 'query' || head?.kind === 'fastpath') {
      head.open.error = error;
      head.open.current = undefined;
      return;
    }
    // Extended protocol: the server discards everything up to the next Sync. The first Execute carries
    // the error (where the client sees it); the later ones never ran.
    let first = true;
    while (this.#pending.length > 0 && this.#pending[0]!.kind !== 'sync') {
      const item = this.#pending.shift()!;
      if (item.kind === 'execute') {
        if (first) item.open.error = error;
        else item.open.skipped = true;
        first = false;
        if (item.open.portal?.suspended === item.open) item.open.portal.suspended = undefined;
        this.#finish(item);
      }
    }
  }

  #finish(item: { open: OpenQuery }): void {
    const { open } = item;
    const set = open.error || open.skipped ? undefined : (open.last ?? open.current);
    // Optional fields are assigned, not spread: conditional spreads took V8's slow path per query.
    const result: TrackedResult = {
      queryNumber: open.query.queryNumber,
      columns: set?.columns.map((column) => column.name) ?? [],
      rows: set?.rows ?? [],
      rowCount: set?.rowCount ?? 0,
      commandTag: open.error || open.skipped ? null : logicalTag(set, open.batches),
      error: open.error,
      durationMs: Date.now() - open.query.startedAt,
    };
    if (set?.truncated) {
      result.truncated = true;
      result.digest = set.digest;
    }
    if (open.skipped) result.skipped = true;
    if (open.batches > 1) result.batches = open.batches;
    if (set && set.undecoded.size > 0) result.undecodedColumns = [...set.undecoded];
    if (open.copyIn) result.copyIn = open.copyIn.end();
    this.handlers.onResult(result);
  }
}

/** The first `count` NUL-terminated strings of `bytes` (fewer when it ends first). */
function cstrings(bytes: Buffer, count: number): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (out.length < count && at <= bytes.length) {
    const end = bytes.indexOf(0, at);
    out.push(bytes.subarray(at, end < 0 ? bytes.length : end));
    if (end < 0) break;
    at = end + 1;
  }
  return out;
}

const textOid = 25;
const byteaOid = 17;

function copyFailMessage(raw: Buffer, decode: (bytes: Buffer) => string): string {
  const end = raw.indexOf(0, 5);
  return decode(raw.subarray(5, end < 0 ? raw.length : end));
}

/**
 * The tag of the whole query: after a suspended portal the server's final CommandComplete counts only
 * the last batch ("SELECT 5" of 25 rows); the logical query — and its replay — returned all the rows.
 */
function logicalTag(set: ResultSet | undefined, batches: number): string | null {
  const tag = set?.tag ?? null;
  if (!set || batches < 2 || tag === null) return tag;
  return tag.replace(/^(SELECT|FETCH|MOVE) \d+$/, `$1 ${set.rowCount}`);
}

/** A portal's columns: from its own Describe, else its statement's, in the formats its Bind asked for. */
function portalColumns(portal: Portal | undefined): ColumnDescription[] {
  if (!portal) return [];
  if (portal.columns) return portal.columns;
  return (portal.statement?.columns ?? []).map((column, index) => ({
    ...column,
    format: formatAt(portal.resultFormats, index),
  }));
}
