import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import type pg from 'pg';

import type { QueryError } from '../generated/session.js';
import { cancelStatement } from '../postgres/cancel.js';
import { connect } from '../postgres/connect.js';
import type { DatabaseUrl } from '../postgres/database-url.js';
import { toDatabaseError } from '../postgres/errors.js';
import { type ComparableResult, compareResults, type Verdict } from './compare-results.js';
import { CopyQuery, type CopySource } from './copy-query.js';
import { loadSession, type RecordedQuery } from './read-session.js';
import { redactRows } from './redact-cells.js';
import { RowsDigest } from './result-set.js';
import {
  isolationLevelOf,
  splitStatements,
  type StatementKind,
  statementKind,
  strictestIsolation,
} from './sql-statements.js';
import { transactionModesOf, wholeSessionReadOnly } from './transaction-modes.js';

export type { Verdict } from './compare-results.js';

export interface ReplayedQuery {
  queryNumber: number;
  sql: string;
  verdict: Verdict;
  diff?: string;
  /** Rows the replay returned (absent when it failed or was not run). */
  rowCount?: number;
  /** Why a query was not compared (a translated transaction statement, no recorded result). */
  note?: string;
  /** The recording does not hold what it takes to run this query as recorded (the replay fails). */
  unreproducible?: true;
}

export interface ReplaySessionResult {
  file: string;
  queriesExecuted: number;
  errors: number;
  matched: number;
  mismatched: number;
  newErrors: number;
  /** Queries the recording cannot reproduce (COPY data over the recording cap). */
  unreproducible: number;
  ok: boolean;
  queries: ReplayedQuery[];
  durationMs: number;
}

export type ReplayEvent =
  | { kind: 'loaded'; file: string; events: number; queries: number }
  | { kind: 'connected' }
  | { kind: 'query'; queryNumber: number; sql: string; at: string }
  | { kind: 'verdict'; query: ReplayedQuery };

export interface ReplaySessionOptions {
  file: string;
  databaseUrl: DatabaseUrl;
  /** Run everything in one transaction that is rolled back at the end. */
  rollback: boolean;
  /** Keep the recorded gaps between queries, divided by this factor; absent = no waiting. */
  speed?: number;
  ignoreColumns?: string[];
  unordered?: boolean;
  onEvent?: (event: ReplayEvent) => void;
  /**
   * Stops the replay: the running statement is cancelled, nothing after it runs, and the promise
   * rejects with the signal's reason (what was replayed is rolled back with `rollback`).
   */
  signal?: AbortSignal;
}

/** Hands every value back as the server's text, as the proxy recorded it. */
const textTypes = { getTypeParser: () => (value: string) => value };

/**
 * Re-executes a recorded session (SPEC §7 `replay`) on one connection, in order, with the recorded
 * parameters, and compares every result with the recording.
 *
 * With `rollback`, the replay runs inside one transaction that is rolled back: recorded BEGIN /
 * COMMIT / ROLLBACK become SAVEPOINT / RELEASE / ROLLBACK TO a savepoint (verdict `not-compared`), and a
 * statement outside a recorded transaction runs under its own savepoint so that an error does not abort
 * the rest of the replay — as it would not have in the recorded autocommit session.
 */
export async function replaySession(options: ReplaySessionOptions): Promise<ReplaySessionResult> {
  const started = Date.now();
  const emit = options.onEvent ?? (() => {});
  const session = await loadSession(options.file);
  emit({
    kind: 'loaded',
    file: options.file,
    events: session.events.length,
    queries: session.queries.length,
  });
  const stop = options.signal;
  const client = await connect(options.databaseUrl, {
    action: 'replay',
    applicationName: 'replay-env replay',
    // A replay killed mid-statement must not leave that statement running on the replay database.
    endWithClient: true,
    ...(stop ? { signal: stop } : {}),
  }).catch((error: unknown) => {
    throw stop?.aborted ? stop.reason : error;
  });
  const cancel = (): void => cancelStatement(client, options.databaseUrl);
  stop?.addEventListener('abort', cancel, { once: true });
  emit({ kind: 'connected' });
  const queries: ReplayedQuery[] = [];
  // Isolation cannot change inside the replay's transaction (savepoints): it starts at the level the
  // recording asked for (the strictest, if several). READ ONLY (and DEFERRABLE) too when the whole
  // session can run so; otherwise each READ ONLY transaction becomes a read-only savepoint.
  const sqls = session.queries.map((recorded) => recorded.query.sql);
  const isolation = strictestIsolation(
    sqls.flatMap((sql) => splitStatements(sql).flatMap((statement) => isolationLevelOf(statement) ?? [])),
  );
  const readOnly = options.rollback ? wholeSessionReadOnly(sqls) : { readOnly: false, deferrable: false };
  const runner = new Runner(client, dirname(options.file), !readOnly.readOnly);
  try {
    if (options.rollback) {
      const modes = [
        ...(isolation ? [`isolation level ${isolation}`] : []),
        ...(readOnly.readOnly ? ['read only'] : []),
        ...(readOnly.deferrable ? ['deferrable'] : []),
      ];
      await client.query(`begin ${modes.join(', ')}`);
    }
    let previousAt: number | undefined;
    for (const recorded of session.queries) {
      stop?.throwIfAborted();
      const at = Date.parse(recorded.at);
      if (options.speed && previousAt !== undefined && at > previousAt)
        await sleep((at - previousAt) / options.speed, undefined, stop ? { signal: stop } : {});
      previousAt = at;
      const { query_number: queryNumber, sql } = recorded.query;
      emit({ kind: 'query', queryNumber, sql, at: recorded.at });
      const skip = skipReason(recorded, options.rollback);
      let replayed: ReplayedQuery;
      if (skip) {
        replayed = { queryNumber, sql, verdict: 'not-compared', note: skip.note };
        if (skip.unreproducible) replayed.unreproducible = true;
      } else if (!sql.trim() && recorded.query.statement !== undefined) {
        replayed = { queryNumber, sql, verdict: 'not-compared', note: 'statement text was not recorded' };
      } else if (options.rollback) {
        // One statement per Parse (extended protocol), transaction control translated: nothing the
        // recorded SQL says can end the replay's own transaction.
        const split = recorded.query.statement !== undefined ? [sql] : splitStatements(sql);
        // Only comments (pg_restore sends such strings): one Parse of it gets the recorded empty answer.
        const statements = split.length > 0 ? split : [sql];
        const notes: string[] = [];
        let actual: ComparableResult | undefined;
        for (const statement of statements) {
          const kind = statementKind(statement);
          if (kind) {
            notes.push(await runner.control(kind, statement));
            continue;
          }
          actual = await runner.run(recorded, statement, { guard: !runner.inTransaction, extended: true });
        }
        replayed = actual
          ? verdictFor(recorded, actual, session.redaction, options)
          : { queryNumber, sql, verdict: 'not-compared', note: notes.join('; ') };
      } else {
        const actual = await runner.run(recorded, sql, { guard: false, extended: false });
        replayed = verdictFor(recorded, actual, session.redaction, options);
      }
      // A cancelled statement's error is the stop, not a verdict on the recording.
      stop?.throwIfAborted();
      queries.push(replayed);
      emit({ kind: 'verdict', query: replayed });
    }
  } catch (error) {
    throw stop?.aborted ? stop.reason : error;
  } finally {
    stop?.removeEventListener('abort', cancel);
    if (options.rollback) await client.query('rollback').catch(() => {});
    await client.end().catch(() => {});
  }
  return summarize(options.file, queries, Date.now() - started);
}

function verdictFor(
  recorded: RecordedQuery,
  actual: ComparableResult,
  redaction: Parameters<typeof redactRows>[2],
  options: ReplaySessionOptions,
): ReplayedQuery {
  const base = { queryNumber: recorded.query.query_number, sql: recorded.query.sql };
  const rowCount = actual.error ? undefined : actual.rows.length;
  if (!recorded.result) {
    return actual.error
      ? { ...base, verdict: 'new-error', diff: `error: ${actual.error.code} (${actual.error.message})` }
      : { ...base, verdict: 'not-compared', rowCount, note: 'no recorded result' };
  }
  const expected: ComparableResult = {
    columns: recorded.result.columns,
    rows: recorded.result.rows,
    commandTag: recorded.result.command_tag,
    error: recorded.result.error,
  };
  // A redacted recording is compared with the replay redacted the same way.
  const comparable = { ...actual, rows: redactRows(actual.columns, actual.rows, redaction) };
  const capped = recorded.result.truncated
    ? cappedDiff(recorded.result, comparable.rows, options)
    : undefined;
  if (capped !== undefined) comparable.rows = comparable.rows.slice(0, recorded.result.rows.length);
  const compared = compareResults(expected, comparable, options);
  const verdict = compared.verdict === 'matched' && capped ? 'mismatched' : compared.verdict;
  const diff = compared.diff ?? (capped || undefined);
  return { ...base, verdict, ...(diff ? { diff } : {}), ...(rowCount !== undefined ? { rowCount } : {}) };
}

/**
 * A recording capped at its first rows: the replay must return as many rows, and (compared in order,
 * no ignored columns) the same digest of all of them. Returns the difference, or '' when none.
 */
function cappedDiff(
  recorded: NonNullable<RecordedQuery['result']>,
  rows: (string | null)[][],
  options: ReplaySessionOptions,
): string {
  if (rows.length !== recorded.row_count)
    return `row count: recorded ${recorded.row_count}, replayed ${rows.length}`;
  if (options.unordered || (options.ignoreColumns?.length ?? 0) > 0 || !recorded.digest) return '';
  const digest = new RowsDigest();
  for (const row of rows) digest.add(row);
  return digest.digest === recorded.digest
    ? ''
    : `rows differ beyond the first ${recorded.rows.length} (digest)`;
}

/** Why a recorded query is not run at all, if it is not. */
function skipReason(
  recorded: RecordedQuery,
  rollback: boolean,
): { note: string; unreproducible?: true } | undefined {
  if (recorded.query.unreplayable) return { note: recorded.query.unreplayable };
  if (recorded.result?.skipped)
    return { note: 'not executed when recorded (an earlier statement of its pipeline failed)' };
  const { oversized } = recorded.query;
  if (oversized)
    return {
      note: `cannot reproduce: the client sent a ${oversized.bytes}-byte message, over what the recorder holds (only its start and digest are recorded)`,
      unreproducible: true,
    };
  const copy = recorded.result?.copy_in;
  if (copy?.truncated)
    return {
      note: `cannot reproduce: the COPY sent ${copy.bytes} bytes, over the recording cap (${copy.recorded_bytes ?? 0} recorded; record --max-copy-mib)`,
      unreproducible: true,
    };
  if (!copy && rollback && /^\s*copy\b[^;]*\bfrom\s+stdin\b/i.test(recorded.query.sql))
    return { note: 'COPY FROM STDIN: the copied data is not in this recording' };
  return undefined;
}

function summarize(file: string, queries: ReplayedQuery[], durationMs: number): ReplaySessionResult {
  const count = (...verdicts: Verdict[]): number =>
    queries.filter((query) => verdicts.includes(query.verdict)).length;
  const executed = queries.filter((query) => !query.note || query.note === 'no recorded result').length;
  const mismatched = count('mismatched');
  const newErrors = count('new-error');
  const unreproducible = queries.filter((query) => query.unreproducible).length;
  return {
    file,
    queriesExecuted: executed,
    errors: count('error-matched', 'new-error'),
    matched: count('matched', 'error-matched'),
    mismatched,
    newErrors,
    unreproducible,
    ok: mismatched === 0 && newErrors === 0 && unreproducible === 0,
    queries,
    durationMs,
  };
}

/** Executes recorded statements on one client and captures exactly what the proxy recorded. */
class Runner {
  /** A recorded transaction is open (replayed as the savepoint replay_env_transaction). */
  inTransaction = false;
  /** The open recorded transaction is READ ONLY; `applied`: its savepoint was made read-only. */
  #readOnly = { wanted: false, applied: false };
  /** default_transaction_read_only as the recorded session set it. */
  #defaultReadOnly = false;
  #lastTag: string | null = null;
  /** Transaction status of the last ReadyForQuery: I idle, T in a transaction, E failed transaction. */
  #status = 'I';

  /** Set by the server's CopyOutResponse during the current query (COPY TO). */
  #copyOut: { binary: boolean } | undefined;

  constructor(
    private readonly client: pg.Client,
    /** Where the session file is: its COPY side file is beside it. */
    private readonly sessionDir: string,
    /** Reproduce READ ONLY per recorded transaction (false: the whole replay already runs read-only). */
    private readonly perTransactionReadOnly = true,
  ) {
    const connection = (client as unknown as { connection: NodeJS.EventEmitter }).connection;
    // node-postgres keeps only the first word of a command tag ("CREATE"); the proxy recorded all of it.
    connection.on('commandComplete', (message: { text: string }) => (this.#lastTag = message.text));
    connection.on('readyForQuery', (message: { status: string }) => (this.#status = message.status));
    connection.on(
      'copyOutResponse',
      (message: { binary: boolean }) => (this.#copyOut = { binary: message.binary }),
    );
  }

  async run(
    recorded: RecordedQuery,
    sql: string,
    mode: { guard: boolean; extended: boolean },
  ): Promise<ComparableResult> {
    const { params, param_formats: formats, param_types: paramTypes } = recorded.query;
    const values = params?.map((value, index) =>
      value !== null && formats?.[index] === 1 ? Buffer.from(value.replace(/^\\x/, ''), 'hex') : value,
    );
    if (mode.guard) await this.client.query('savepoint replay_env_statement');
    // A statement outside transactions under default_transaction_read_only ran read-only; SET and
    // the like are not affected by it and must keep their effect (no read-only savepoint for them).
    const readOnlyAlone =
      mode.guard && this.#defaultReadOnly && !/^\s*(set|reset)\b/i.test(sql) && this.perTransactionReadOnly;
    if (readOnlyAlone) await this.client.query('set local transaction_read_only = on');
    if (this.inTransaction) await this.#applyReadOnly();
    this.#lastTag = null;
    this.#copyOut = undefined;
    try {
      // Without values and not extended, node-postgres uses the simple protocol (several statements
      // allowed), as recorded. The declared parameter types go in Parse: pg reads them from `types`,
      // which must also answer getTypeParser for the results.
      // COPY TO data comes back as rows of one column, as the proxy recorded it.
      const copied: (string | null)[][] = [];
      const query = new CopyQuery(
        {
          text: sql,
          ...(recorded.query.statement !== undefined ? { values: values ?? [] } : {}),
          ...(mode.extended ? { queryMode: 'extended' } : {}),
          rowMode: 'array',
          types: paramTypes ? Object.assign([...paramTypes], textTypes) : textTypes,
        } as pg.QueryConfig,
        this.#copySource(recorded),
        (chunk) =>
          copied.push([this.#copyOut?.binary ? `\\x${chunk.toString('hex')}` : chunk.toString('utf8')]),
      );
      const raw = await new Promise<pg.QueryArrayResult | pg.QueryArrayResult[]>((resolve, reject) => {
        (query as unknown as { callback: (error: Error | null, result: unknown) => void }).callback = (
          error,
          result,
        ) => (error ? reject(error) : resolve(result as pg.QueryArrayResult));
        void this.client.query(query);
      });
      const result = Array.isArray(raw) ? raw.at(-1) : raw;
      const commandTag = this.#lastTag;
      // A read-only savepoint is rolled back (it changed no table) so its mode does not outlast it.
      if (readOnlyAlone) await this.client.query('rollback to savepoint replay_env_statement');
      if (mode.guard) await this.client.query('release savepoint replay_env_statement');
      const modes = transactionModesOf(sql);
      if (modes?.scope === 'session' && modes.readOnly !== undefined) this.#defaultReadOnly = modes.readOnly;
      const isCopyOut = this.#copyOut !== undefined;
      return {
        columns: isCopyOut ? ['copy'] : (result?.fields ?? []).map((field) => field.name),
        rows: isCopyOut ? copied : ((result?.rows ?? []) as (string | null)[][]),
        commandTag,
        error: null,
      };
    } catch (error) {
      const pgError = error as { code?: string; message?: string; severity?: string };
      // Only a server error is a query result; a lost connection ends the replay.
      if (!pgError.severity || !pgError.code) throw toDatabaseError(error, { action: 'replay' });
      if (mode.guard) await this.client.query('rollback to savepoint replay_env_statement');
      // pg settles an extended query on its ErrorResponse, before the ReadyForQuery that says the
      // transaction failed: a COMMIT right after must already know (or it would release, and fail).
      else this.#status = 'E';
      const queryError: QueryError = {
        code: pgError.code,
        message: pgError.message ?? '',
        severity: pgError.severity ?? 'ERROR',
      };
      return { columns: [], rows: [], commandTag: null, error: queryError };
    }
  }

  #copySource(recorded: RecordedQuery): CopySource | undefined {
    const copy = recorded.result?.copy_in;
    if (!copy) return undefined;
    return {
      path: join(this.sessionDir, basename(copy.file)),
      offset: copy.offset,
      bytes: copy.bytes,
      digest: copy.digest,
      failMessage: copy.client_failed,
    };
  }

  /**
   * Applies a recorded transaction statement inside the replay's own transaction: BEGIN → savepoint,
   * COMMIT → release (or, as Postgres does for a failed transaction, roll back to it), ROLLBACK → roll
   * back to it. A transaction that recovered with ROLLBACK TO SAVEPOINT is not failed (the server's
   * status says so). Returns the note for the verdict.
   */
  async control(kind: StatementKind, statement: string): Promise<string> {
    const modes = transactionModesOf(statement);
    switch (kind) {
      case 'begin':
        if (this.inTransaction) return 'BEGIN inside a transaction: no effect';
        await this.client.query('savepoint replay_env_transaction');
        this.inTransaction = true;
        this.#readOnly = { wanted: modes?.readOnly ?? this.#defaultReadOnly, applied: false };
        return `BEGIN replayed as a${this.#readOnly.wanted && this.perTransactionReadOnly ? ' read-only' : ''} savepoint`;
      case 'commit':
      case 'rollback':
        await this.#end(kind === 'rollback' || this.#status === 'E');
        return `${kind.toUpperCase()} replayed as a savepoint`;
      case 'commit-and-chain':
      case 'rollback-and-chain':
        await this.#end(kind === 'rollback-and-chain' || this.#status === 'E');
        await this.client.query('savepoint replay_env_transaction');
        this.inTransaction = true;
        // AND CHAIN starts the next transaction with the same modes.
        this.#readOnly = { wanted: this.#readOnly.wanted, applied: false };
        return `${kind.replace(/-/g, ' ').toUpperCase()} replayed as savepoints`;
      case 'set-transaction':
        if (this.inTransaction && modes?.readOnly !== undefined && !this.#readOnly.applied)
          this.#readOnly.wanted = modes.readOnly;
        if (this.inTransaction && modes?.readOnly) await this.#applyReadOnly();
        return `SET TRANSACTION skipped: the replay runs inside its own transaction${modes?.readOnly && this.perTransactionReadOnly ? ' (its READ ONLY applied to the savepoint)' : ''}`;
      case 'two-phase':
        return 'two-phase commit statement refused under --rollback';
      case 'vacuum':
        return 'VACUUM skipped: it cannot run inside the replay transaction (and changes no rows)';
    }
  }

  /** Makes the open recorded transaction's savepoint read-only if it was READ ONLY (once). */
  async #applyReadOnly(): Promise<void> {
    if (!this.perTransactionReadOnly || !this.#readOnly.wanted || this.#readOnly.applied) return;
    await this.client.query('set local transaction_read_only = on');
    this.#readOnly.applied = true;
  }

  async #end(rollBack: boolean): Promise<void> {
    if (!this.inTransaction) return;
    // A read-only savepoint changed no table: rolling it back ends its read-only mode, which a release
    // would carry into the rest of the replay (Postgres cannot switch back to read-write).
    if (rollBack || this.#readOnly.applied)
      await this.client.query('rollback to savepoint replay_env_transaction');
    await this.client.query('release savepoint replay_env_transaction');
    this.inTransaction = false;
  }
}
