import type { BackendMessage } from 'pg-protocol/dist/messages.js';

import type { QueryError } from '../generated/session.js';
import { formatAt, type FrontendMessage } from './frontend-decoder.js';

export interface TrackedQuery {
  queryNumber: number;
  sql: string;
  /** Extended protocol only. */
  statement?: string;
  params?: (string | null)[];
  paramFormats?: (0 | 1)[];
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
}

interface Described {
  columns?: string[];
}
interface Statement extends Described {
  sql: string;
}
interface Portal extends Described {
  statementName: string;
  statement: Statement | undefined;
  params: (string | null)[];
  paramFormats: (0 | 1)[];
}
interface ResultSet {
  columns: string[];
  rows: (string | null)[][];
  tag: string | null;
}
interface OpenQuery {
  query: TrackedQuery;
  portal?: Portal;
  current: ResultSet | undefined;
  /** Simple protocol: the last completed result of a multi-statement query string. */
  last: ResultSet | undefined;
  error: QueryError | null;
}

type Pending =
  | { kind: 'parse' | 'bind' | 'close' | 'sync' }
  | { kind: 'describe'; target: Described | undefined }
  | { kind: 'execute' | 'query'; open: OpenQuery };

/**
 * Follows a Postgres session from both sides and turns it into query/result pairs. Every frontend
 * message that the server answers is queued; server messages are matched against the head of the queue
 * — which is how the protocol itself works, and why pipelined extended-protocol batches (Parse/Bind/
 * Describe/Execute/Sync sent in one write) pair up correctly. An error in the extended protocol makes
 * the server skip to the next Sync; the queued messages up to it are dropped and the first Execute among
 * them carry the error (that is where a driver reports it). A simple-protocol string with several
 * statements is one query whose recorded result is its last statement's (as node-postgres's and psql's
 * last result).
 */
export class QueryTracker {
  #queryNumber = 0;
  readonly #pending: Pending[] = [];
  readonly #statements = new Map<string, Statement>();
  readonly #portals = new Map<string, Portal>();

  constructor(
    private readonly handlers: {
      onQuery: (query: TrackedQuery) => void;
      onResult: (result: TrackedResult) => void;
    },
  ) {}

  get queryCount(): number {
    return this.#queryNumber;
  }

  /** Call for each client message before it is forwarded to the target. */
  frontend(message: FrontendMessage): void {
    switch (message.type) {
      case 'query':
        this.#pending.push({ kind: 'query', open: this.#open({ sql: message.sql }) });
        break;
      case 'parse':
        this.#statements.set(message.statement, { sql: message.sql });
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
                : value.toString('utf8'),
          ),
          paramFormats,
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
      case 'execute': {
        const portal = this.#portals.get(message.portal);
        const open = this.#open({
          sql: portal?.statement?.sql ?? '',
          statement: portal?.statementName ?? '',
          params: portal?.params ?? [],
          ...(portal?.paramFormats.includes(1) ? { paramFormats: portal.paramFormats } : {}),
        });
        open.portal = portal;
        this.#pending.push({ kind: 'execute', open });
        break;
      }
      case 'close':
        (message.target === 'S' ? this.#statements : this.#portals).delete(message.name);
        this.#pending.push({ kind: 'close' });
        break;
      case 'sync':
        this.#pending.push({ kind: 'sync' });
        break;
      default:
        break;
    }
  }

  /** Call for each parsed server message, before its bytes are forwarded to the client. */
  backend(message: BackendMessage): void {
    const head = this.#pending[0];
    const fields = message as unknown as Record<string, unknown>;
    switch (message.name) {
      case 'parseComplete':
      case 'bindComplete':
      case 'closeComplete':
        if (head && head.kind !== 'query' && head.kind !== 'execute') this.#pending.shift();
        break;
      case 'rowDescription': {
        const columns = (fields.fields as { name: string }[]).map((field) => field.name);
        if (head?.kind === 'describe') {
          if (head.target) head.target.columns = columns;
          this.#pending.shift();
        } else if (head?.kind === 'query') {
          head.open.current = { columns, rows: [], tag: null };
        }
        break;
      }
      case 'noData':
        if (head?.kind === 'describe') {
          if (head.target) head.target.columns = [];
          this.#pending.shift();
        }
        break;
      case 'dataRow':
        if (head?.kind === 'query' || head?.kind === 'execute') {
          this.#resultSet(head.open).rows.push(fields.fields as (string | null)[]);
        }
        break;
      case 'commandComplete':
      case 'emptyQuery':
      case 'portalSuspended':
        if (head?.kind === 'query' || head?.kind === 'execute') {
          const set = this.#resultSet(head.open);
          set.tag = message.name === 'commandComplete' ? (fields.text as string) : null;
          head.open.last = set;
          head.open.current = undefined;
          if (head.kind === 'execute') this.#finish(this.#pending.shift() as { open: OpenQuery });
        }
        break;
      case 'error':
        this.#error(fields);
        break;
      case 'readyForQuery':
        // Everything up to and including the query/sync that this answers is done.
        while (this.#pending.length > 0) {
          const item = this.#pending.shift()!;
          if (item.kind === 'query' || item.kind === 'execute') this.#finish(item);
          if (item.kind === 'query' || item.kind === 'sync') break;
        }
        break;
      default:
        break;
    }
  }

  /**
   * At session end: records every query whose outcome the client has already seen — an error, or a
   * completed command — but whose ReadyForQuery never arrived. A client such as node-postgres settles
   * on the ErrorResponse and may hang up before ReadyForQuery reaches the proxy (it came in the next TCP
   * chunk); without this the answered query would be missing from the session file.
   */
  flush(): void {
    for (const item of this.#pending.splice(0)) {
      if ((item.kind === 'query' || item.kind === 'execute') && (item.open.error || item.open.last))
        this.#finish(item);
    }
  }

  #open(query: Omit<TrackedQuery, 'queryNumber' | 'startedAt'>): OpenQuery {
    this.#queryNumber += 1;
    const tracked: TrackedQuery = { queryNumber: this.#queryNumber, ...query, startedAt: Date.now() };
    this.handlers.onQuery(tracked);
    return { query: tracked, current: undefined, last: undefined, error: null };
  }

  #resultSet(open: OpenQuery): ResultSet {
    if (!open.current) {
      // Extended protocol: the columns come from the Describe of the portal or of its statement.
      const columns = open.portal?.columns ?? open.portal?.statement?.columns ?? [];
      open.current = { columns, rows: [], tag: null };
    }
    return open.current;
  }

  #error(fields: Record<string, unknown>): void {
    const error: QueryError = {
      code: String(fields.code ?? ''),
      message: String(fields.message ?? ''),
      severity: String(fields.severity ?? 'ERROR'),
    };
    const head = this.#pending[0];
    if (head?.kind === 'query') {
      head.open.error = error;
      head.open.current = undefined;
      return;
    }
    // Extended protocol: the server discards everything up to the next Sync.
    // Every Execute skipped that way failed with this error, as far as its client is concerned.
    while (this.#pending.length > 0 && this.#pending[0]!.kind !== 'sync') {
      const item = this.#pending.shift()!;
      if (item.kind === 'execute' || item.kind === 'query') {
        item.open.error = error;
        this.#finish(item);
      }
    }
  }

  #finish(item: { open: OpenQuery }): void {
    const { open } = item;
    const set = open.error ? undefined : (open.last ?? open.current);
    this.handlers.onResult({
      queryNumber: open.query.queryNumber,
      columns: set?.columns ?? [],
      rows: set?.rows ?? [],
      rowCount: set?.rows.length ?? 0,
      commandTag: open.error ? null : (set?.tag ?? null),
      error: open.error,
      durationMs: Date.now() - open.query.startedAt,
    });
  }
}
