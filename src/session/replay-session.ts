import { setTimeout as sleep } from 'node:timers/promises';

import type pg from 'pg';

import type { QueryError } from '../generated/session.js';
import { connect } from '../postgres/connect.js';
import type { DatabaseUrl } from '../postgres/database-url.js';
import { toDatabaseError } from '../postgres/errors.js';
import { type ComparableResult, compareResults, type Verdict } from './compare-results.js';
import { loadSession, type RecordedQuery } from './read-session.js';
import { redactRows } from './redact-cells.js';
import { classifyTransactionStatement } from './transaction-statements.js';

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
}

export interface ReplaySessionResult {
  file: string;
  queriesExecuted: number;
  errors: number;
  matched: number;
  mismatched: number;
  newErrors: number;
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
  const client = await connect(options.databaseUrl, {
    action: 'replay',
    applicationName: 'replay-env replay',
  });
  emit({ kind: 'connected' });
  const queries: ReplayedQuery[] = [];
  const runner = new Runner(client);
  try {
    if (options.rollback) await client.query('begin');
    let inTransaction = false;
    let previousAt: number | undefined;
    for (const recorded of session.queries) {
      const at = Date.parse(recorded.at);
      if (options.speed && previousAt !== undefined && at > previousAt)
        await sleep((at - previousAt) / options.speed);
      previousAt = at;
      const { query_number: queryNumber, sql } = recorded.query;
      emit({ kind: 'query', queryNumber, sql, at: recorded.at });
      const control = options.rollback ? classifyTransactionStatement(sql) : undefined;
      let replayed: ReplayedQuery;
      if (control) {
        inTransaction = await runner.translate(control, inTransaction);
        replayed = { queryNumber, sql, verdict: 'not-compared', note: `${control} replayed as a savepoint` };
      } else if (!sql.trim() && recorded.query.statement !== undefined) {
        replayed = { queryNumber, sql, verdict: 'not-compared', note: 'statement text was not recorded' };
      } else {
        const guard = options.rollback && !inTransaction;
        const actual = await runner.run(recorded, guard);
        if (inTransaction && actual.error) runner.aborted = true;
        replayed = verdictFor(recorded, actual, session.redaction, options);
      }
      queries.push(replayed);
      emit({ kind: 'verdict', query: replayed });
    }
  } finally {
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
  const { verdict, diff } = compareResults(expected, comparable, options);
  return { ...base, verdict, ...(diff ? { diff } : {}), ...(rowCount !== undefined ? { rowCount } : {}) };
}

function summarize(file: string, queries: ReplayedQuery[], durationMs: number): ReplaySessionResult {
  const count = (...verdicts: Verdict[]): number =>
    queries.filter((query) => verdicts.includes(query.verdict)).length;
  const executed = queries.filter((query) => !query.note || query.note === 'no recorded result').length;
  const mismatched = count('mismatched');
  const newErrors = count('new-error');
  return {
    file,
    queriesExecuted: executed,
    errors: count('error-matched', 'new-error'),
    matched: count('matched', 'error-matched'),
    mismatched,
    newErrors,
    ok: mismatched === 0 && newErrors === 0,
    queries,
    durationMs,
  };
}

/** Executes recorded statements on one client and captures exactly what the proxy recorded. */
class Runner {
  /** A statement inside a translated transaction failed: the transaction is aborted until rolled back. */
  aborted = false;
  #lastTag: string | null = null;

  constructor(private readonly client: pg.Client) {
    // node-postgres keeps only the first word of a command tag ("CREATE"); the proxy recorded all of it.
    (client as unknown as { connection: NodeJS.EventEmitter }).connection.on(
      'commandComplete',
      (message: { text: string }) => (this.#lastTag = message.text),
    );
  }

  async run(recorded: RecordedQuery, guard: boolean): Promise<ComparableResult> {
    const { sql, params, param_formats: formats } = recorded.query;
    const values = params?.map((value, index) =>
      value !== null && formats?.[index] === 1 ? Buffer.from(value.replace(/^\\x/, ''), 'hex') : value,
    );
    if (guard) await this.client.query('savepoint replay_env_statement');
    this.#lastTag = null;
    try {
      // Without values node-postgres uses the simple protocol (several statements allowed), as recorded.
      const raw = (await this.client.query({
        text: sql,
        ...(recorded.query.statement !== undefined ? { values: values ?? [] } : {}),
        rowMode: 'array',
        types: textTypes,
      })) as unknown as pg.QueryArrayResult | pg.QueryArrayResult[];
      const result = Array.isArray(raw) ? raw.at(-1) : raw;
      const commandTag = this.#lastTag;
      if (guard) await this.client.query('release savepoint replay_env_statement');
      return {
        columns: (result?.fields ?? []).map((field) => field.name),
        rows: (result?.rows ?? []) as (string | null)[][],
        commandTag,
        error: null,
      };
    } catch (error) {
      const pgError = error as { code?: string; message?: string; severity?: string };
      // Only a server error is a query result; a lost connection ends the replay.
      if (!pgError.severity || !pgError.code) throw toDatabaseError(error, { action: 'replay' });
      if (guard) await this.client.query('rollback to savepoint replay_env_statement');
      const queryError: QueryError = {
        code: pgError.code,
        message: pgError.message ?? '',
        severity: pgError.severity ?? 'ERROR',
      };
      return { columns: [], rows: [], commandTag: null, error: queryError };
    }
  }

  /** Applies a recorded BEGIN/COMMIT/ROLLBACK as savepoint operations; returns whether a recorded transaction is open. */
  async translate(control: 'begin' | 'commit' | 'rollback', inTransaction: boolean): Promise<boolean> {
    if (control === 'begin') {
      if (!inTransaction) await this.client.query('savepoint replay_env_transaction');
      this.aborted = false;
      return true;
    }
    if (!inTransaction) return false;
    // COMMIT of a failed transaction is a rollback, in Postgres as here.
    if (control === 'rollback' || this.aborted)
      await this.client.query('rollback to savepoint replay_env_transaction');
    await this.client.query('release savepoint replay_env_transaction');
    this.aborted = false;
    return false;
  }
}
