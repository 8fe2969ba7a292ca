import type pg from 'pg';

import type { CapsuleReader, IntegrityStatus } from '../capsule/index.js';
import { CapsuleError, DatabaseError } from '../errors.js';
import type { ParsedTable } from '../manifest/index.js';
import { readTables, type TableInfo } from '../postgres/catalog.js';
import type { DatabaseUrl } from '../postgres/database-url.js';
import { toDatabaseError } from '../postgres/errors.js';
import { checkColumns, columnProblems } from './column-check.js';
import { loadDirect } from './load-direct.js';
import { type MaterializePhase, phaseTimer, statementRunner } from './load-session.js';
import type { PreparedMaterialize } from './prepare.js';
import { RewriteTally } from './rewrite-tally.js';
import { advanceSequences } from './sequences.js';
import {
  allStagedKeysSql,
  deleteSql,
  type Sql,
  stagedKeysSql,
  stageTable,
  targetEmptySql,
  upsertSql,
  verifySql,
} from './sql.js';
import { type LoadStrategy, stageCapsule, type StagedTable } from './stage.js';
import { suspendTriggers } from './triggers.js';
import { verifyValues } from './verify-values.js';

export type { MaterializePhase } from './load-session.js';

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
  /** Tables whose user triggers were off during the load, and tables whose triggers fired. */
  triggers: { disabled: string[]; firing: string[] };
  verified: boolean;
  phases: Record<MaterializePhase, number>;
  plans: { label: string; sql: string; plan: string }[];
}

/**
 * The materialize transaction (SPEC §5): stage every capsule row into temp tables, check columns, delete
 * the graph's rows (reverse load order, for the original and the rewritten graph), upsert in load order,
 * verify that every capsule row is in its table, commit. Any failure rolls back, leaving the replay
 * database exactly as it was.
 */
export async function loadCapsule(options: LoadOptions): Promise<LoadOutcome> {
  if (options.strategy === 'copy' && !options.explain && options.direct !== false) {
    const outcome = await loadDirect(options);
    if (outcome) return outcome;
  }
  return loadStaged(options);
}

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
    verified: false,
    phases,
    plans: [],
  };
}

/** The staging path: every table through a jsonb staging table and jsonb_populate_record. */
async function loadStaged(options: LoadOptions): Promise<LoadOutcome> {
  const { client } = options;
  const { phases, end: endPhase } = phaseTimer();
  const run = statementRunner(client, options.url, toError);
  const outcome = emptyOutcome(phases);
  await run({ text: 'begin', values: [] });
  try {
    await run({ text: 'set constraints all deferred', values: [] });
    const triggers = await suspendTriggers(
      options.prepared.tables.map((table) => table.name),
      run,
      options.keepTriggers ?? false,
    );
    outcome.triggers = { disabled: triggers.disabled, firing: triggers.firing };
    const byName = new Map(options.prepared.tables.map((table) => [table.name, table]));
    const tally = new RewriteTally(options.prepared.rewrite);
    const staged = await stageCapsule(client, options.reader, {
      strategy: options.strategy,
      chunkSize: options.chunkSize,
      tally,
      declared: new Set(byName.keys()),
      run,
      toError: (error, sql) => toError(error, sql, options.url),
      onRows: (table, rows) => options.onProgress?.({ phase: 'stage', table, rows }),
    });
    tally.assertMoved();
    outcome.rewritten = tally.perTable;
    const summary = options.reader.summary();
    outcome.rowCounts = summary.rowCounts;
    outcome.integrity = summary.integrity.status;
    for (const entry of staged) {
      if (entry.rows !== summary.rowCounts[entry.table]) {
        throw new CapsuleError(
          `tables[${entry.table}]: ${entry.rows} rows staged, the capsule has ${summary.rowCounts[entry.table]}`,
        );
      }
    }
    endPhase('stage');

    // Load order is the manifest's; the capsule's file order does not matter.
    const ordered = options.prepared.tables
      .map((table) => ({ table, stage: staged.find((entry) => entry.table === table.name) }))
      .filter((item): item is { table: ParsedTable; stage: StagedTable } => item.stage !== undefined);
    const infos = await readTables(
      client,
      ordered.map((item) => item.table.name),
    );
    const missing = ordered.filter((item) => !infos.has(item.table.name)).map((item) => item.table.name);
    if (missing.length > 0) {
      throw new DatabaseError(
        `replay database ${options.url.identity()} has no table ${missing.join(', ')}`,
        {
          code: 'schema_mismatch',
          hint: "create the app's schema in the replay database first (its migrations)",
        },
      );
    }
    const shapes = await checkAll(ordered, infos, run);
    endPhase('check');

    const maybeExplain = async (sql: Sql, label: string): Promise<pg.QueryResult> => {
      if (!options.explain) return run(sql);
      const result = await run({ ...sql, text: `explain (analyze, buffers, costs) ${sql.text}` });
      outcome.plans.push({
        label,
        sql: sql.text,
        plan: result.rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n'),
      });
      return { ...result, rowCount: 0 };
    };
    for (const item of [...ordered].reverse()) {
      const sql = deleteSql(item.table, options.subjectKeys, options.prepared.graphKeys);
      if (!sql) continue;
      options.onProgress?.({ phase: 'delete', table: item.table.name });
      outcome.deleted[item.table.name] =
        (await maybeExplain(sql, `tables[${item.table.name}] delete`)).rowCount ?? 0;
    }
    endPhase('delete');

    for (const item of ordered) {
      const shape = shapes.get(item.table.name)!;
      outcome.loaded[item.table.name] = 0;
      if (item.stage.rows === 0) continue;
      if (options.explain) await run({ text: `analyze ${stageTable(item.stage.index)}`, values: [] });
      options.onProgress?.({ phase: 'upsert', table: item.table.name, rows: item.stage.rows });
      const targetEmpty =
        shape.primaryKey.length > 0 && (await run(targetEmptySql(item.table.name))).rows[0].empty === true;
      const sql = upsertSql(item.table.name, item.stage.index, { ...shape, targetEmpty });
      outcome.loaded[item.table.name] =
        (await maybeExplain(sql, `tables[${item.table.name}] upsert`)).rowCount ?? 0;
    }
    endPhase('upsert');
    if (options.explain) {
      await run({ text: 'rollback', values: [] });
      return outcome;
    }

    options.onProgress?.({ phase: 'verify' });
    await verify(ordered, shapes, outcome, run);
    await resyncSequences(
      ordered.map((item) => infos.get(item.table.name)!),
      run,
    );
    outcome.valueDifferences = await verifyValues({
      staged: ordered
        .filter((item) => item.stage.rows > 0)
        .map((item) => ({
          table: item.table.name,
          index: item.stage.index,
          info: infos.get(item.table.name)!,
          written: shapes.get(item.table.name)!.columns,
        })),
      direct: [],
      run,
      client,
      reader: options.reader,
      rewrite: options.prepared.rewrite,
      toError: (error, sql) => toError(error, sql, options.url),
    });
    outcome.verified = Object.keys(outcome.valueDifferences).length === 0;
    endPhase('verify');
    await triggers.restore();
    options.onProgress?.({ phase: 'commit' });
    await run({ text: 'commit', values: [] });
    endPhase('commit');
    return outcome;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  }
}

export interface Shape {
  columns: string[];
  primaryKey: string[];
  overridingSystemValue: boolean;
}

/** Checks the capsule's columns of each table against the target (throws schema_mismatch). */
export async function checkAll(
  ordered: { table: ParsedTable; stage: StagedTable }[],
  infos: Map<string, TableInfo>,
  run: (sql: Sql) => Promise<pg.QueryResult>,
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
  if (problems.length > 0) {
    throw new DatabaseError(`the capsule does not fit the replay database: ${problems.join('; ')}`, {
      code: 'schema_mismatch',
      hint: 'migrate the replay database to the schema the capsule was exported from',
    });
  }
  return shapes;
}

/** Every staged row is in its target table (throws materialize_verify_failed). */
export async function verify(
  ordered: { table: ParsedTable; stage: StagedTable }[],
  shapes: Map<string, Shape>,
  outcome: LoadOutcome,
  run: (sql: Sql) => Promise<pg.QueryResult>,
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
    if (present !== item.stage.rows) {
      problems.push(
        `tables[${item.table.name}]: ${present} of ${item.stage.rows} capsule rows are in the replay table`,
      );
    }
  }
  if (problems.length > 0) {
    throw new CapsuleError(`materialize verification failed: ${problems.join('; ')}`, {
      code: 'materialize_verify_failed',
    });
  }
}

/** Maps an error of a statement to the error to report (a DatabaseError naming the statement). */
export function toError(error: unknown, sql: Sql, url: DatabaseUrl): Error {
  if (error instanceof CapsuleError || error instanceof DatabaseError) return error;
  const label = /^\/\* (.*?) \*\//.exec(sql.text)?.[1];
  return toDatabaseError(error, {
    url,
    sql: sql.text,
    action: label ? `materialize ${label}` : 'materialize',
  });
}

/** Moves the sequences of the loaded tables past the loaded ids (src/materialize/sequences.ts). */
export async function resyncSequences(
  tables: readonly TableInfo[],
  run: (sql: Sql) => Promise<pg.QueryResult>,
): Promise<void> {
  await advanceSequences(
    tables.map((info) => info.name),
    run,
  );
}
