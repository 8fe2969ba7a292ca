import { once } from 'node:events';
import { finished } from 'node:stream/promises';

import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

import { ByteRun } from '../capsule/byte-run.js';
import type { CapsuleReader } from '../capsule/index.js';
import { undeclaredTable } from './load-errors.js';
import type { RewriteTally } from './rewrite-tally.js';
import { copyStageSql, createStageSql, insertStageChunkSql, type Sql } from './sql.js';

export type LoadStrategy = 'copy' | 'jsonb';

export interface StageOptions {
  strategy: LoadStrategy;
  chunkSize: number;
  /** Applies (and counts) the subject rewrite. */
  tally: RewriteTally;
  /** Manifest table names; a capsule table not among them stops the load. */
  declared: ReadonlySet<string>;
  /** Runs a statement, mapping errors to DatabaseError with its SQL. */
  run: (sql: Sql) => Promise<pg.QueryResult>;
  /** Maps an error of a statement (a failed COPY) to the error to report. */
  toError: (error: unknown, sql: Sql) => Error;
  onRows?: (table: string, rows: number) => void;
  /** The digest of a table's rows as sent (value verification), or undefined for none. */
  sentDigest?: (table: string) => RowSink | undefined;
}

/** Receives each row text as it is sent. */
export interface RowSink {
  add(text: string): void;
}

export interface StagedTable {
  table: string;
  index: number;
  rows: number;
  sent?: RowSink | undefined;
}

export interface Sink {
  /**
   * Queues a row; returns a promise (to await before the next push) only when the queued rows were
   * written, so a caller's loop over rows costs no promise per row.
   */
  push(text: string): Promise<void> | undefined;
  end(): Promise<number>;
}

/**
 * Streams the capsule's rows, in file order, into one temp staging table per capsule table. Rows are
 * not parsed (unless a subject rewrite may apply to them); COPY respects backpressure, so memory stays
 * flat. The reader checks counts and hashes after the last row and throws if they fail, which aborts the
 * load before anything is written to a target table.
 */
export async function stageCapsule(
  client: pg.Client,
  reader: CapsuleReader,
  options: StageOptions,
): Promise<StagedTable[]> {
  const staged: StagedTable[] = [];
  let sink: Sink | undefined;
  let current: StagedTable | undefined;
  const close = async () => {
    if (sink && current) current.rows = await sink.end();
    sink = undefined;
  };
  try {
    for await (const row of reader.rows()) {
      if (row.table !== current?.table) {
        await close();
        current = await openStage(row.table, staged.length, options);
        staged.push(current);
        sink =
          options.strategy === 'copy'
            ? copySink(client, copyStageSql(current.table, current.index), current, options)
            : jsonbSink(current, options);
      }
      const text = options.tally.row(row.table, row.text);
      current.sent?.add(text);
      const written = sink!.push(text);
      if (written) await written;
    }
    await close();
  } catch (error) {
    // A COPY in flight must be ended before the connection can roll back; its error is the one to report.
    await sink?.end().catch(() => {});
    throw error;
  }
  // Tables with no rows still count: their graph rows are deleted (the subject has none now).
  for (const [table, rows] of Object.entries(reader.summary().rowCounts)) {
    if (rows === 0 && !staged.some((entry) => entry.table === table)) {
      const entry = await openStage(table, staged.length, options);
      staged.push(entry);
    }
  }
  return staged;
}

export async function openStage(table: string, index: number, options: StageOptions): Promise<StagedTable> {
  if (!options.declared.has(table)) {
    throw undeclaredTable(table);
  }
  await options.run(createStageSql(table, index));
  return { table, index, rows: 0, sent: options.sentDigest?.(table) };
}

/**
 * Bytes per COPY write. Rows are put together as UTF-8 in a Buffer as they come: joining them into one
 * string, then encoding it, cost ~2 s of a 1M-row realistic load's CPU (docs/performance.md, twenty-second
 * session).
 */
const copyBatchBytes = 1 << 16;
const newline = 0x0a;

/** A COPY sink whose caller may also append lines itself (json-to-copy-bytes.ts). */
export interface CopySink extends Sink {
  /** The lines queued, each with its newline. */
  readonly lines: ByteRun;
  /** Counts one line the caller appended to `lines`; returns a promise only when they were written (as push). */
  added(): Promise<void> | undefined;
}

/**
 * A COPY … FROM STDIN of row lines (`sql`), written in batches with backpressure. Also used by the direct
 * load (src/materialize/load-direct.ts), whose lines are COPY text rather than JSON.
 */
export function copySink(
  client: pg.Client,
  sql: Sql,
  stage: Pick<StagedTable, 'table'>,
  options: Pick<StageOptions, 'chunkSize' | 'toError' | 'onRows'>,
): CopySink {
  const stream = client.query(copyFrom(sql.text));
  let failure: unknown;
  stream.on('error', (error) => {
    failure ??= error;
  });
  // Room for a batch and the row that takes it past copyBatchBytes, mostly without growing.
  const capacity = copyBatchBytes * 2;
  const lines = new ByteRun(capacity);
  let queued = 0;
  let rows = 0;
  const flush = async () => {
    if (lines.length === 0) return;
    const bytes = lines.take(capacity);
    queued = 0;
    if (stream.write(bytes)) return;
    try {
      await once(stream, 'drain');
    } catch (error) {
      throw options.toError(failure ?? error, sql);
    }
  };
  const added = () => {
    if (failure) throw options.toError(failure, sql);
    rows++;
    queued++;
    if (queued < options.chunkSize && lines.length < copyBatchBytes) return undefined;
    const sent = rows;
    return flush().then(() => options.onRows?.(stage.table, sent));
  };
  return {
    lines,
    added,
    push(text) {
      lines.putString(text);
      lines.putByte(newline);
      return added();
    },
    async end() {
      // After a server-side COPY error (e.g. a \u0000 in a row) the stream has emitted 'error' but is not
      // destroyed: ending it again and awaiting finished() waited forever, and materialize hung with an
      // aborted transaction open. The cleanup path calls end() a second time, so report the failure here.
      if (failure) throw options.toError(failure, sql);
      try {
        await flush();
        stream.end();
        await finished(stream);
      } catch (error) {
        throw options.toError(failure ?? error, sql);
      }
      if (failure) throw options.toError(failure, sql);
      options.onRows?.(stage.table, rows);
      return stream.rowCount ?? rows;
    },
  };
}

function jsonbSink(stage: StagedTable, options: StageOptions): Sink {
  let batch: string[] = [];
  let rows = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const chunk = batch;
    batch = [];
    await options.run(insertStageChunkSql(stage.table, stage.index, chunk));
    options.onRows?.(stage.table, rows);
  };
  return {
    push(text) {
      batch.push(text);
      rows++;
      return batch.length >= options.chunkSize ? flush() : undefined;
    },
    async end() {
      await flush();
      return rows;
    },
  };
}
