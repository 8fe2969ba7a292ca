/* eslint-disable */
// Generated from schemas/session.schema.json by scripts/generate-types.js. Do not edit: edit the schema and run `npm run generate`.

export type SessionEvent = SessionActivityEvent | QueryEvent | QueryResultEvent;
/**
 * ISO 8601, UTC.
 */
export type Timestamp = string;
/**
 * A session recorded by `replay-env record` (SPEC §7): an array of events in the order they happened. The `.json.journal` form holds the same events, one JSON object per line.
 */
export type SessionFile = SessionEvent[];

export interface SessionActivityEvent {
  type: 'session_activity';
  timestamp: Timestamp;
  data: {
    activity: 'session_start' | 'connection' | 'session_end';
    details: ActivityDetails;
  };
}
/**
 * session_start: session_id, pseudo_user, start_time (and redaction when rules were applied); connection: pseudo_user, real_user, database, real_db_host, real_db_port; session_end: end_time, queries, reason.
 */
export interface ActivityDetails {
  session_id?: string;
  pseudo_user?: string;
  start_time?: string;
  real_user?: string;
  database?: string;
  real_db_host?: string;
  real_db_port?: string;
  end_time?: string;
  queries?: number;
  reason?: string;
  recovered?: boolean;
  /**
   * session_end of a recovered journal: numbers of journal lines that were not valid JSON (their events are lost). Replay refuses such a session.
   */
  corrupt_lines?: number[];
  /**
   * Redaction rules applied to recorded result columns; replay applies them to its results too.
   */
  redaction?: RecordedRedactionRule[];
}
export interface RecordedRedactionRule {
  fields: string[];
  action: 'empty' | 'null' | 'empty_object' | 'empty_array' | 'hash';
  prefix?: string;
}
export interface QueryEvent {
  type: 'query';
  timestamp: Timestamp;
  data: {
    query_number: number;
    sql: string;
    /**
     * Prepared statement name (extended protocol; "" = unnamed).
     */
    statement?: string;
    /**
     * Bound parameter values as text (binary ones as \x hex, see param_formats); null for SQL NULL.
     */
    params?: (string | null)[];
    /**
     * Parameter type OIDs the client declared in Parse (0 = inferred by the server); replay declares the same.
     */
    param_types?: number[];
    /**
     * Why replay cannot run this call (e.g. a fastpath function call); replay reports it as not compared.
     */
    unreplayable?: string;
    /**
     * A message of this query was over the 8 MiB the recorder holds: it was streamed to the server unchanged; `sql` holds only its first 64 KiB. Replay cannot reproduce it.
     */
    oversized?: {
      bytes: number;
      /**
       * sha256:<hex> of the whole message body.
       */
      digest: string;
    };
    /**
     * Per parameter: 0 text, 1 binary. Omitted when all are text.
     */
    param_formats?: (0 | 1)[];
  };
}
export interface QueryResultEvent {
  type: 'query_result';
  timestamp: Timestamp;
  data: {
    query_number: number;
    columns: string[];
    rows: (string | null)[][];
    row_count: number;
    /**
     * More rows than the recording cap: `rows` holds the first ones, `row_count` counts all, `digest` covers all.
     */
    truncated?: boolean;
    /**
     * sha256:<hex> over every row in order (each row's JSON text followed by a newline); set when truncated.
     */
    digest?: string;
    /**
     * Never executed: an earlier statement of the same pipeline failed and the server skipped to Sync.
     */
    skipped?: boolean;
    /**
     * The rows came in this many Execute batches (portal suspended in between).
     */
    batches?: number;
    /**
     * Binary-format columns of a type the recorder cannot print as text; their values are \x hex.
     */
    undecoded_columns?: string[];
    copy_in?: CopyIn;
    command_tag: string | null;
    duration_ms?: number;
    error: null | QueryError;
  };
}
/**
 * The data a client sent with COPY FROM STDIN, kept in the session's side file (`<session>.json.copy`).
 */
export interface CopyIn {
  /**
   * Side file name, in the session file's folder.
   */
  file: string;
  /**
   * Where this COPY's bytes start in it.
   */
  offset: number;
  /**
   * How many bytes the client sent (all of them).
   */
  bytes: number;
  /**
   * sha256:<hex> of all the bytes sent.
   */
  digest: string;
  /**
   * Over the session's COPY recording cap: only `recorded_bytes` are in the file; replay cannot reproduce this COPY.
   */
  truncated?: boolean;
  recorded_bytes?: number;
  /**
   * The client ended the COPY with CopyFail and this message.
   */
  client_failed?: string;
}
export interface QueryError {
  code: string;
  message: string;
  severity: string;
}
