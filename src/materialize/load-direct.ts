import { lineLayoutId } from '../capsule/header.js';
import { DatabaseError } from '../errors.js';
import { readTables, type TableInfo } from '../postgres/catalog.js';
import { checkColumns, type ColumnCheck, columnProblems } from './column-check.js';
import { type CopyTypes, directCopySql, readCopyTypes } from './copy-types.js';
import { dropDeferrableForeignKeys, type DroppedForeignKeys } from './deferred-foreign-keys.js';
import { dropDeferrableIndexes, type DroppedIndexes } from './deferred-indexes.js';
import { type CopyColumn, InvalidRow, RowConverter, UnsupportedRow } from './json-to-copy.js';
import { ByteRowConverter } from './json-to-copy-bytes.js';
import {
  doesNotFit,
  invalidRow,
  rowsMissing,
  toError,
  undeclaredTable,
  verificationFailed,
} from './load-errors.js';
import {
  checkAll,
  checkStagedCounts,
  emptyOutcome,
  type LoadOptions,
  type LoadOutcome,
  resyncSequences,
  type Shape,
  statementRunner,
  verify,
  verifyLoadedValues,
} from './load-steps.js';
import { phaseTimer } from './load-timing.js';
import { RewriteTally } from './rewrite-tally.js';
import { copyStageSql, createStageSql, deleteSql, type Sql, targetEmptySql, upsertSql } from './sql.js';
import { type CopySink, copySink, type StagedTable } from './stage.js';
import { suspendTriggers } from './triggers.js';
import { SentDigest } from './verify-values.js';

/** The direct load cannot reproduce the staging path's result for this capsule: use the staging path. */
class UseStaging extends Error {}

interface TableLoad {
  stage: StagedTable;
  info: TableInfo;
  /** Manifest load-order position. */
  position: number;
  sink?: CopySink | undefined;
  /** Set when the table is copied straight into the target: its rows' text, or their bytes. */
  converter?: RowConverter;
  bytes?: ByteRowConverter;
  /** The digest of the rows sent (value verification). */
  digest?: SentDigest;
  /** Direct tables: the columns written. */
  written?: string[];
  /** The target held no rows before the load. */
  targetWasEmpty?: boolean;
  /** Secondary indexes dropped for the direct COPY, built again after it. */
  indexes?: DroppedIndexes;
  /** Foreign keys dropped for the direct COPY, added again after the last table. */
  foreignKeys?: DroppedForeignKeys;
}

/**
 * The `copy` strategy's fast path (docs/materialize.md "Speed"). Every manifest table's graph rows are
 * deleted first (reverse load order), then the capsule is streamed once, table by table in file order
 * (which must be the load order, as replay-env writes it): a table that is empty (or has no primary key),
 * whose column types the converter handles, without identity ALWAYS columns, INSERT rules or an
 * all-key column list, gets its rows converted to COPY text on the client and copied straight into the
 * target; any other table goes through its jsonb staging table and upsert right after its rows, as in
 * the staging path. Same transaction, verification and sequence handling.
 *
 * Returns undefined (after rolling back) when the capsule needs the staging path for a reason found
 * only while reading it: tables out of load order, a manifest table the capsule lacks, a manifest table
 * missing from the replay database (the staging path reports it), or a row the converter cannot load
 * exactly as jsonb_populate_record would (a key the first row lacks, a number with an exponent, …).
 */
export async function loadDirect(options: LoadOptions): Promise<LoadOutcome | undefined> {
  const { client, url } = options;
  // Only replay-env's line layout guarantees tables in load order (the original tool's are in any order).
  if (options.reader.header.layout !== lineLayoutId) return undefined;
  const { phases, end: endPhase } = phaseTimer();
  const run = statementRunner(client, url, toError);
  const tables = options.prepared.tables;
  const names = tables.map((table) => table.name);
  const position = new Map(names.map((name, index) => [name, index]));
  const outcome = emptyOutcome(phases);
  const sinkOptions = {
    chunkSize: options.chunkSize,
    toError: (error: unknown, sql: Sql) => toError(copyContext(error), sql, url),
    onRows: (table: string, rows: number) => options.onProgress?.({ phase: 'stage' as const, table, rows }),
  };
  let copyTypes = new Map<string, CopyTypes>();
  await run({ text: 'begin', values: [] });
  let current: TableLoad | undefined;
  // A manifest table was skipped in the file: empty, or (with a reordered manifest) still to come, in
  // which case a foreign key to it fails before the order check can tell.
  let skipped = false;
  // Foreign keys are checked at the end only when no user trigger fires and no table has an INSERT
  // rule (rules run whatever the load turns off): either could change rows a key refers to after its
  // table was loaded (deferred-foreign-keys.ts).
  let deferForeignKeys = false;
  try {
    await run({ text: 'set constraints all deferred', values: [] });
    const infos = await readTables(client, names);
    if (names.some((name) => !infos.has(name))) throw new UseStaging('a manifest table is missing');
    copyTypes = await readCopyTypes(client, names);
    const triggers = await suspendTriggers(names, run, options.keepTriggers ?? false);
    outcome.triggers = { disabled: triggers.disabled, firing: triggers.firing };
    deferForeignKeys =
      options.keepForeignKeys !== true &&
      triggers.firing.length === 0 &&
      ![...copyTypes.values()].some((types) => types.insertRules);
    endPhase('check');

    for (const table of [...tables].reverse()) {
      const sql = deleteSql(table, options.subjectKeys, options.prepared.graphKeys);
      if (!sql) continue;
      options.onProgress?.({ phase: 'delete', table: table.name });
      outcome.deleted[table.name] = (await run(sql)).rowCount ?? 0;
    }
    endPhase('delete');

    const loads: TableLoad[] = [];
    const shapes = new Map<string, Shape>();
    const tally = new RewriteTally(options.prepared.rewrite);
    const finish = async (load: TableLoad) => {
      if (!load.sink) return;
      const rows = await load.sink.end();
      load.sink = undefined;
      if (load.converter) {
        outcome.loaded[load.stage.table] = rows;
        if (load.indexes && load.indexes.indexes.length > 0) {
          endPhase('stage');
          options.onProgress?.({ phase: 'indexes', table: load.stage.table });
          await load.indexes.restore();
          endPhase('indexes');
        }
        return;
      }
      load.stage.rows = rows;
      // A staged table is checked and upserted right away, before the next table's rows are copied
      // (which may reference it).
      endPhase('stage');
      const item = { table: tables[load.position]!, stage: load.stage };
      const [shape] = (await checkAll([item], infos, run)).values();
      shapes.set(load.stage.table, shape!);
      endPhase('check');
      options.onProgress?.({ phase: 'upsert', table: load.stage.table, rows });
      load.targetWasEmpty = (await run(targetEmptySql(load.stage.table))).rows[0].empty === true;
      const sql = upsertSql(load.stage.table, load.stage.index, {
        ...shape!,
        targetEmpty: load.targetWasEmpty && shape!.primaryKey.length > 0,
      });
      outcome.loaded[load.stage.table] = (await run(sql)).rowCount ?? 0;
      endPhase('upsert');
    };

    // The rows' bytes: direct tables are converted from them (json-to-copy-bytes.ts), and value
    // verification hashes them. The file's own SHA-256 is not used here (the rows' hashes are checked
    // against the trailer).
    for await (const batch of options.reader.batches({ bytes: true, fileHash: false })) {
      if (batch.table !== current?.stage.table) {
        if (current) await finish(current);
        const at = position.get(batch.table);
        if (at === undefined) throw undeclaredTable(batch.table);
        if (current && at <= current.position) throw new UseStaging('capsule tables are not in load order');
        if (at !== (current?.position ?? -1) + 1) skipped = true;
        current = {
          stage: { table: batch.table, index: loads.length, rows: 0 },
          info: infos.get(batch.table)!,
          position: at,
        };
        loads.push(current);
        await start(current, batch.rows[0]!);
      }
      const load = current;
      if (load.bytes && !tally.active && batch.bytes) {
        await copyBytes(load, batch.bytes);
        continue;
      }
      const texts = tally.active ? batch.rows.map((row) => tally.row(batch.table, row)) : batch.rows;
      load.digest?.addBatch(batch.rows, texts, batch.bytes);
      // No promise per row: the sink returns one only when it wrote its queued rows.
      for (const text of texts) {
        load.stage.rows++;
        let line = text;
        if (load.converter) {
          try {
            line = load.converter.convert(text);
          } catch (error) {
            throw rowError(error, load);
          }
        }
        const written = load.sink!.push(line);
        if (written) await written;
      }
    }
    if (current) await finish(current);
    current = undefined;
    endPhase('stage');
    // Every row is in: the deferred checks run now rather than at the commit (the same checks on the
    // same rows), so no table has pending trigger events when its keys are added again or its
    // triggers turned back on (PostgreSQL refuses to alter a table with pending events).
    await run({ text: 'set constraints all immediate', values: [] });
    for (const load of loads) {
      if (!load.foreignKeys || load.foreignKeys.keys.length === 0) continue;
      options.onProgress?.({ phase: 'foreignKeys', table: load.stage.table });
      await load.foreignKeys.restore();
    }
    endPhase('foreignKeys');

    tally.assertMoved();
    outcome.rewritten = tally.perTable;
    const summary = options.reader.summary();
    outcome.rowCounts = summary.rowCounts;
    outcome.integrity = summary.integrity.status;
    outcome.lossy = summary.integrity.lossy ?? {};
    for (const table of Object.keys(summary.rowCounts)) {
      if (!position.has(table)) throw undeclaredTable(table);
    }
    // The deletes ran for every manifest table; the staging path deletes only from the capsule's.
    if (names.some((name) => !Object.hasOwn(summary.rowCounts, name)))
      throw new UseStaging('a manifest table is not in the capsule');
    checkStagedCounts(
      loads.map((load) => load.stage),
      summary.rowCounts,
    );
    for (const name of names) if (!Object.hasOwn(outcome.loaded, name)) outcome.loaded[name] = 0;

    options.onProgress?.({ phase: 'verify' });
    const staged = loads.filter((load) => !load.converter);
    await verify(
      staged.map((load) => ({ table: tables[load.position]!, stage: load.stage })),
      shapes,
      outcome,
      run,
    );
    const problems = loads
      .filter((load) => load.converter && outcome.loaded[load.stage.table] !== load.stage.rows)
      .map((load) => rowsMissing(load.stage.table, outcome.loaded[load.stage.table]!, load.stage.rows));
    if (problems.length > 0) throw verificationFailed(problems);
    await verifyLoadedValues(
      outcome,
      options,
      () =>
        loads
          .filter((load) => load.stage.rows > 0)
          .map((load) => ({
            table: load.stage.table,
            info: load.info,
            written: load.converter ? load.written! : shapes.get(load.stage.table)!.columns,
            sent: load.digest!,
            stage: load.converter ? undefined : load.stage.index,
            targetWasEmpty: load.targetWasEmpty ?? false,
          })),
      run,
      sinkOptions.toError,
    );
    outcome.directCopy = loads.filter((load) => load.converter).map((load) => load.stage.table);
    endPhase('verify');
    await triggers.restore();
    // Last before the commit: setval is not transactional, so a load that fails or is interrupted
    // earlier (value verification can take a while) leaves the sequences as they were.
    await resyncSequences(
      names.map((name) => infos.get(name)!),
      run,
    );
    options.onProgress?.({ phase: 'commit' });
    await run({ text: 'commit', values: [] });
    endPhase('commit');
    return outcome;
  } catch (error) {
    // A COPY in flight must be ended before the connection can roll back.
    await current?.sink?.end().catch(() => {});
    await client.query('rollback').catch(() => {});
    if (error instanceof UseStaging) return undefined;
    if (skipped && error instanceof DatabaseError && error.sqlState === '23503') return undefined;
    throw error;
  }

  /** Decides, at a table's first row, between a direct COPY and the staging table. */
  async function start(load: TableLoad, firstRow: string): Promise<void> {
    // Only the keys are needed (numbers may lose digits here; they are never used).
    const keys = firstRowKeys(load.stage.table, firstRow);
    const check = checkColumns(keys, load.info);
    const problems = columnProblems(check);
    if (problems.length > 0) throw doesNotFit(problems);
    const columns = directColumns(load.info, check, copyTypes.get(load.stage.table));
    if (options.verifyValues !== false) load.digest = new SentDigest(load.info);
    if (columns !== undefined) {
      load.targetWasEmpty = (await run(targetEmptySql(load.stage.table))).rows[0].empty === true;
    }
    if (columns !== undefined && (load.info.primaryKey.length === 0 || load.targetWasEmpty)) {
      load.converter = new RowConverter(columns, check.generatedSkipped);
      load.bytes = new ByteRowConverter(columns, check.generatedSkipped);
      load.written = columns.map((column) => column.name);
      if (load.targetWasEmpty && options.keepIndexes !== true)
        load.indexes = await dropDeferrableIndexes(load.stage.table, run);
      if (load.targetWasEmpty && deferForeignKeys)
        load.foreignKeys = await dropDeferrableForeignKeys(
          load.stage.table,
          names.slice(load.position + 1),
          run,
        );
      const sql = directCopySql(
        load.stage.table,
        columns.map((column) => column.name),
      );
      load.sink = copySink(client, sql, load.stage, sinkOptions);
      return;
    }
    await run(createStageSql(load.stage.table, load.stage.index));
    load.sink = copySink(client, copyStageSql(load.stage.table, load.stage.index), load.stage, sinkOptions);
  }
}

/**
 * Copies a batch of a direct table's rows (CapsuleBatch.bytes, as read) into its COPY, converted on the
 * bytes: no row is decoded unless the conversion needs it (json-to-copy-bytes.ts).
 */
async function copyBytes(load: TableLoad, bytes: Buffer): Promise<void> {
  const sink = load.sink!;
  const converter = load.bytes!;
  load.digest?.addBytes(bytes);
  converter.batch(bytes);
  for (let from = 0; from < bytes.length;) {
    const end = bytes.indexOf(0x0a, from);
    load.stage.rows++;
    try {
      converter.convert(from, end, sink.lines);
    } catch (error) {
      throw rowError(error, load);
    }
    from = end + 1;
    // No promise per row: the sink returns one only when it wrote its queued rows.
    const written = sink.added();
    if (written) await written;
  }
}

/**
 * The columns of a direct COPY (the capsule's writable columns with their conversions), or undefined
 * when the table needs the staging path: a type the converter does not handle, identity ALWAYS columns
 * (COPY cannot override them), INSERT rules (COPY bypasses them), or only key columns (the upsert's
 * `do nothing` absorbs keys repeated in the capsule; COPY would fail on them).
 */
export function directColumns(
  info: TableInfo,
  check: ColumnCheck,
  types: CopyTypes | undefined,
): CopyColumn[] | undefined {
  if (!types || types.insertRules || check.overridingSystemValue || check.writable.length === 0)
    return undefined;
  if (info.primaryKey.length > 0 && check.writable.every((column) => info.primaryKey.includes(column)))
    return undefined;
  const columns: CopyColumn[] = [];
  for (const name of check.writable) {
    const kind = types.columns.get(name);
    if (!kind) return undefined;
    columns.push({ name, kind });
  }
  return columns;
}

/** A conversion failure as the error to report (or the signal to use the staging path). */
function rowError(error: unknown, load: TableLoad): Error {
  if (error instanceof UnsupportedRow) return new UseStaging(error.message);
  if (error instanceof InvalidRow)
    return invalidRow(load.stage.table, load.stage.rows, error.message, error.column);
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Adds the row number and column of a failed COPY (the server's `COPY t, line N, column c` context) to
 * its message, so "invalid input syntax for type uuid" says which capsule row it was.
 */
export function copyContext(error: unknown): unknown {
  const where = (error as { where?: unknown } | undefined)?.where;
  const message = (error as { message?: unknown } | undefined)?.message;
  if (typeof where !== 'string' || typeof message !== 'string') return error;
  const match = /COPY [^,]+, line (\d+)(?:, column ([^:]+))?/.exec(where);
  if (!match) return error;
  const column = match[2] ? `, column ${match[2]}` : '';
  const copy = Object.assign(Object.create(Object.getPrototypeOf(error) as object) as object, error, {
    message: `${message} (row ${match[1]}${column})`,
  });
  return copy;
}

/**
 * The first row's keys. The reader has seen a `{…}` line, not parsed it: invalid JSON there is the
 * capsule's fault, a CapsuleError naming the table (as the converter's are, rowError).
 */
function firstRowKeys(table: string, text: string): string[] {
  try {
    return Object.keys(JSON.parse(text) as object);
  } catch (error) {
    throw invalidRow(table, 1, (error as Error).message);
  }
}
