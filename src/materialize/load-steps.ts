import type pg from 'pg';

import type { CapsuleReader, IntegrityStatus } from '../capsule/index.js';
import type { ParsedTable } from '../manifest/index.js';
import type { TableInfo } from '../postgres/catalog.js';
import type { DatabaseUrl } from '../postgres/database-url.js';
import { extendedQuery } from '../postgres/one-statement.js';
import { checkColumns, columnProblems } from './column-check.js';
import { doesNotFit, rowsMissing, stagedCountMismatch, verificationFailed } from './load-errors.js';
import type { MaterializePhase } from './load-timing.js';
import type { PreparedMaterialize } from './prepare.js';
import { advanceSequences } from './sequences.js';
import { allStagedKeysSql, type Sql, stagedKeysSql, verifySql } from './sql.js';
import type { LoadStrategy, StagedTable } from './stage.js';
import { type LoadedTable, verifyValues } from './verify-values.js';

// What the two load paths (load-staged.ts, load-direct.ts) share: their options and outcome, and the
// steps both run inside the load's transaction.

export interface MaterializeProgress {
  phase: MaterializePhase;
  table?: string;
  rows?: number;
}

export interface LoadOptions {
  client: pg.Client;
  url: DatabaseUrl;
  reader: CapsuleReader;
  subjectKeys: readonly string[];
  prepared: PreparedMaterialize;
  strategy: LoadStrategy;
  chunkSize: number;
  /**
   * `copy` strategy: load tables that are empty after the deletes with a direct COPY (default true);
   * false forces the staging path for every table.
   */
  direct?: boolean;
  /** Leave the tables' user triggers on during the load (default: off where the role may; triggers.ts). */
  keepTriggers?: boolean;
  /**
   * Keep the secondary indexes of tables copied straight into in place during their COPY (default: drop
   * the ones that can be restored exactly and build them again after it; deferred-indexes.ts).
   */
  keepIndexes?: boolean;
  /**
   * Keep the foreign keys of tables copied straight into in place during their COPY, checked row by row
   * (default: drop the ones that can be restored exactly and add them again after the last table, one
   * check per key; deferred-foreign-keys.ts).
   */
  keepForeignKeys?: boolean;
  /**
   * Compare the loaded values with the capsule's (default true). False only for A/B measurements of its
   * cost (bench/run.js): the load then never says `verified`.
   */
  verifyValues?: boolean;
  /** Run deletes and upserts under EXPLAIN ANALYZE and roll everything back. */
  explain?: boolean;
  onProgress?: ((event: MaterializeProgress) => void) | undefined;
}

export interface LoadOutcome {
  rowCounts: Record<string, number>;
  /** Integrity of the capsule as read by the load. */
  integrity: IntegrityStatus;
  /** Tables copied straight into the target (no staging table); see src/materialize/load-direct.ts. */
  directCopy: string[];
  deleted: Record<string, number>;
  loaded: Record<string, number>;
  /** Values changed by the subject rewrite, per table (empty without a rewrite). */
  rewritten: Record<string, number>;
  /**
   * Capsule rows whose values are not in the replay table after the load, per table with any (value
   * verification, src/materialize/verify-values.ts); `verified` is false when any.
   */
  valueDifferences: Record<string, number>;
  /**
   * Loaded rows holding a json/jsonb array of more than one dimension, per table with any: the capsule's
   * JSON is the same for a one-dimensional array of JSON arrays, so their shape is not verified and
   * `verified` is false (value-digest.ts nestedJsonArraysSql).
   */
  nestedJsonArrays: Record<string, number>;
  /**
   * Per table and column, rows whose value the capsule cannot hold exactly (JSON null, array bounds; its integrity
   * trailer, graph/lossy-values-sql.ts): loaded as SQL NULL, so `verified` is false when any.
   */
  lossy: Record<string, Record<string, number>>;
  /** Tables whose user triggers were off during the load, and tables whose triggers fired. */
  triggers: { disabled: string[]; firing: string[] };
  verified: boolean;
  phases: Record<MaterializePhase, number>;
  plans: { label: string; sql: string; plan: string }[];
}

export interface Shape {
  columns: string[];
  primaryKey: string[];
  overridingSystemValue: boolean;
}

export type RunStatement = (sql: Sql) => Promise<pg.QueryResult>;

/** A load's outcome before anything ran; both load paths fill it in. */
export function emptyOutcome(phases: Record<MaterializePhase, number>): LoadOutcome {
  return {
    rowCounts: {},
    integrity: 'counts-only',
    directCopy: [],
    deleted: {},
    loaded: {},
    rewritten: {},
    triggers: { disabled: [], firing: [] },
    valueDifferences: {},
    nestedJsonArrays: {},
    lossy: {},
    verified: false,
    phases,
    plans: [],
  };
}

/** Runs one statement of the load; a failure becomes the labelled one-line error `toError` makes. */
export function statementRunner(
  client: pg.Client,
  url: DatabaseUrl,
  toError: (error: unknown, sql: Sql, url: DatabaseUrl) => Error,
): RunStatement {
  return async (sql) => {
    try {
      // Extended protocol: a deletePredicate cannot stack a second statement behind the delete.
      return await client.query(extendedQuery(sql.text, sql.values));
    } catch (error) {
      throw toError(error, sql, url);
    }
  };
}

/** Every table's rows as read match the count the capsule records (throws otherwise). */
export function checkStagedCounts(staged: readonly StagedTable[], rowCounts: Record<string, number>): void {
  for (const entry of staged) {
    if (entry.rows !== rowCounts[entry.table]) {
      throw stagedCountMismatch(entry.table, entry.rows, rowCounts[entry.table]);
    }
  }
}

/** Checks the capsule's columns of each table against the target (throws schema_mismatch). */
export async function checkAll(
  ordered: { table: ParsedTable; stage: StagedTable }[],
  infos: Map<string, TableInfo>,
  run: RunStatement,
): Promise<Map<string, Shape>> {
  const shapes = new Map<string, Shape>();
  const problems: string[] = [];
  for (const item of ordered) {
    const info = infos.get(item.table.name)!;
    let keys: string[] = [];
    if (item.stage.rows > 0) {
      const first = (await run(stagedKeysSql(item.table.name, item.stage.index))).rows[0] as {
        keys: string[];
        complete: boolean;
      };
      keys = first.complete
        ? first.keys
        : ((await run(allStagedKeysSql(item.table.name, item.stage.index))).rows[0].keys as string[]);
      problems.push(...columnProblems(checkColumns(keys, info)));
    }
    const check = checkColumns(keys, info);
    shapes.set(item.table.name, {
      columns: check.writable,
      primaryKey: info.primaryKey,
      overridingSystemValue: check.overridingSystemValue,
    });
  }
  if (problems.length > 0) throw doesNotFit(problems);
  return shapes;
}

/** Every staged row is in its target table (throws materialize_verify_failed). */
export async function verify(
  ordered: { table: ParsedTable; stage: StagedTable }[],
  shapes: Map<string, Shape>,
  outcome: LoadOutcome,
  run: RunStatement,
): Promise<void> {
  const problems: string[] = [];
  for (const item of ordered) {
    if (item.stage.rows === 0) continue;
    const shape = shapes.get(item.table.name)!;
    // ON CONFLICT DO UPDATE (and a plain insert) affects every staged row exactly once, so its row count
    // proves each row landed; only DO NOTHING (all columns in the key) needs a lookup by primary key.
    const doNothing =
      shape.primaryKey.length > 0 && shape.columns.every((column) => shape.primaryKey.includes(column));
    const present = doNothing
      ? Number((await run(verifySql(item.table.name, item.stage.index, shape.primaryKey))).rows[0].n)
      : outcome.loaded[item.table.name]!;
    if (present !== item.stage.rows) problems.push(rowsMissing(item.table.name, present, item.stage.rows));
  }
  if (problems.length > 0) throw verificationFailed(problems);
}

/** Moves the sequences of the loaded tables past the loaded ids (src/materialize/sequences.ts). */
export async function resyncSequences(tables: readonly TableInfo[], run: RunStatement): Promise<void> {
  await advanceSequences(
    tables.map((info) => info.name),
    run,
  );
}

/**
 * Value verification of the loaded tables (src/materialize/verify-values.ts), into the outcome; with it
 * turned off (`verifyValues: false`) nothing runs and the outcome never says `verified`.
 */
export async function verifyLoadedValues(
  outcome: LoadOutcome,
  options: LoadOptions,
  tables: () => LoadedTable[],
  run: RunStatement,
  toError: (error: unknown, sql: Sql) => Error,
): Promise<void> {
  if (options.verifyValues === false) return;
  const found = await verifyValues({
    tables: tables(),
    run,
    client: options.client,
    reader: options.reader,
    rewrite: options.prepared.rewrite,
    toError,
  });
  outcome.valueDifferences = found.differing;
  outcome.nestedJsonArrays = found.nestedArrays;
  outcome.verified =
    Object.keys(found.differing).length === 0 &&
    Object.keys(found.nestedArrays).length === 0 &&
    Object.keys(outcome.lossy).length === 0;
}
