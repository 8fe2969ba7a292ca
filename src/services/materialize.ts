import type pg from 'pg';

import { type CapsuleHeader, openCapsule } from '../capsule/index.js';
import { ReplayEnvError, UsageError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { logger } from '../log.js';
import type { ParsedManifest } from '../manifest/index.js';
import {
  loadCapsule,
  type LoadOutcome,
  type MaterializePhase,
  type MaterializeProgress,
} from '../materialize/load.js';
import { takeLoadLock } from '../materialize/load-lock.js';
import { logMaterializeProgress } from '../materialize/log-progress.js';
import { prepareMaterialize } from '../materialize/prepare.js';
import {
  copyStageSql,
  createStageSql,
  deleteSql,
  insertStageChunkSql,
  type Sql,
  upsertSql,
} from '../materialize/sql.js';
import type { LoadStrategy } from '../materialize/stage.js';
import { cancelStatement } from '../postgres/cancel.js';
import { withClient } from '../postgres/connect.js';
import type { DatabaseUrl } from '../postgres/database-url.js';
import { checkTargetAfterConnect } from '../postgres/target.js';
import { handleInterrupts } from '../run/interrupt.js';

export type { LoadStrategy, MaterializeProgress };

export interface MaterializeOptions {
  manifest: ParsedManifest;
  capsulePath: string;
  databaseUrl: DatabaseUrl;
  /** `--rewrite-subject`: subject key → new value (parse the flags with parseSubjectRewrite). */
  rewriteSubject?: Record<string, string>;
  useLocalSubject?: boolean;
  loadStrategy?: LoadStrategy;
  /** Rows per jsonb chunk / per COPY write (default 1000). */
  chunkSize?: number;
  allowUnsafeTarget?: boolean;
  /** Keep the replay tables' user triggers on during the load (`--keep-triggers`). */
  keepTriggers?: boolean;
  /** Keep secondary indexes in place during direct COPYs instead of building them after (`--keep-indexes`). */
  keepIndexes?: boolean;
  /** Check foreign keys row by row during direct COPYs instead of adding them again after (`--keep-foreign-keys`). */
  keepForeignKeys?: boolean;
  /** `copy` strategy: copy tables that are empty after the deletes straight into them (default true). */
  directCopy?: boolean;
  onProgress?: (event: MaterializeProgress) => void;
  env?: NodeJS.ProcessEnv;
  /**
   * Aborting it stops the load: the running statement is cancelled and the connection closed, so the
   * transaction never commits (`run`'s Ctrl-C). The promise then rejects with MaterializeInterrupted.
   */
  signal?: AbortSignal;
  /**
   * SIGINT/SIGTERM abort the load (as `signal` does; a second one exits at once): the command line's
   * Ctrl-C rolls the load back and says so, rather than leaving the server running its statement.
   */
  handleSignals?: boolean;
}

/** The load was stopped by MaterializeOptions.signal (its reason 'SIGTERM': exit 143); nothing was committed. */
export class MaterializeInterrupted extends ReplayEnvError {
  constructor(reason?: unknown) {
    super('interrupted', 'interrupted; the load was rolled back', {
      exitCode: reason === 'SIGTERM' ? ExitCode.terminated : ExitCode.interrupted,
    });
  }
}

export interface MaterializeResult {
  app: string;
  capsule: string;
  /** host:port/database of the replay database (never a password). */
  database: string;
  strategy: LoadStrategy;
  /** The subject the replay database now holds (after a rewrite). */
  subject: Record<string, string>;
  /** Capsule rows per table. */
  rowCounts: Record<string, number>;
  /** Rows removed by each table's deletePredicate (original and rewritten graph). */
  deleted: Record<string, number>;
  /** Rows inserted or updated per table. */
  loaded: Record<string, number>;
  /** Values changed by `--rewrite-subject`/`--use-local-subject`, per table (empty without a rewrite). */
  rewritten: Record<string, number>;
  /**
   * Tables whose user triggers were off during the load (`disabled`) and tables whose triggers fired
   * (`firing`: `--keep-triggers`, or the replay role does not own them).
   */
  triggers: { disabled: string[]; firing: string[] };
  /**
   * Every capsule row is in the replay database with the capsule's values (counts and values checked);
   * false when `valueDifferences`, `nestedJsonArrays` or `lossy` has any table.
   */
  verified: boolean;
  /** Capsule rows whose values differ in the replay database, per table with any (the load commits). */
  valueDifferences: Record<string, number>;
  /**
   * Loaded rows whose json/jsonb array has more than one dimension, per table with any: the capsule's
   * JSON cannot tell it from a one-dimensional array of JSON arrays, so the shape is not verified.
   */
  nestedJsonArrays: Record<string, number>;
  /**
   * Per table and column, rows whose value the capsule cannot hold exactly, as the export counted them
   * (graph/lossy-values-sql.ts): a JSON null in json/jsonb loaded as SQL NULL, an array not indexed from 1
   * loaded from 1. The values are not verified.
   */
  lossy: Record<string, Record<string, number>>;
  integrity: 'verified' | 'counts-only' | 'failed';
  /**
   * Tables copied straight into the replay table (`copy` strategy, table empty after the deletes); the
   * others went through a jsonb staging table and an upsert.
   */
  directCopy: string[];
  durationMs: number;
  /** Milliseconds per phase (stage, check, delete, upsert, verify, commit). */
  phases: Record<MaterializePhase, number>;
}

function defaults(options: { loadStrategy?: LoadStrategy; chunkSize?: number }): {
  strategy: LoadStrategy;
  chunkSize: number;
} {
  const chunkSize = options.chunkSize ?? 1000;
  if (!Number.isInteger(chunkSize) || chunkSize < 1)
    throw new UsageError('--chunk-size must be a positive integer');
  return { strategy: options.loadStrategy ?? 'copy', chunkSize };
}

async function run(
  options: MaterializeOptions,
  explain: boolean,
): Promise<{ outcome: LoadOutcome; result: MaterializeResult }> {
  const started = performance.now();
  const { strategy, chunkSize } = defaults(options);
  const reader = await openCapsule(options.capsulePath);
  const prepared = prepare(options, reader.header, options.allowUnsafeTarget);
  const logProgress = logMaterializeProgress(options.onProgress);
  // Once COMMIT is sent an abort no longer stops the load: its outcome is then the server's answer.
  let committing = false;
  const outcome = await withClient(
    options.databaseUrl,
    { action: 'replay database', applicationName: 'replay-env materialize', endWithClient: true },
    (client) =>
      untilAborted(
        client,
        options.databaseUrl,
        options.signal,
        () => committing,
        async () => {
          // Before any write: is the server we reached the export source, whatever the URL said?
          await checkTargetAfterConnect(client, options.databaseUrl, {
            capsuleSource: reader.header.source,
            allowUnsafeTarget: options.allowUnsafeTarget,
          });
          await takeLoadLock(client, options.databaseUrl);
          return loadCapsule({
            client,
            url: options.databaseUrl,
            reader,
            subjectKeys: options.manifest.subjectKeys,
            prepared,
            strategy,
            chunkSize,
            explain,
            keepTriggers: options.keepTriggers ?? false,
            keepIndexes: options.keepIndexes ?? false,
            keepForeignKeys: options.keepForeignKeys ?? false,
            // REPLAY_ENV_MATERIALIZE_DIRECT=0 turns the direct COPY off (A/B measurements, bench/run.js).
            direct:
              options.directCopy ?? (options.env ?? process.env)['REPLAY_ENV_MATERIALIZE_DIRECT'] !== '0',
            // REPLAY_ENV_MATERIALIZE_VERIFY_VALUES=0: no value verification, never `verified` (A/B of its cost).
            verifyValues: (options.env ?? process.env)['REPLAY_ENV_MATERIALIZE_VERIFY_VALUES'] !== '0',
            onProgress: (event) => {
              if (event.phase === 'commit') committing = true;
              logProgress(event);
            },
          });
        },
      ),
  );
  const result: MaterializeResult = {
    app: options.manifest.appId,
    capsule: options.capsulePath,
    database: options.databaseUrl.identity(),
    strategy,
    subject: prepared.subject,
    rowCounts: outcome.rowCounts,
    deleted: outcome.deleted,
    loaded: outcome.loaded,
    rewritten: outcome.rewritten,
    triggers: outcome.triggers,
    verified: outcome.verified,
    valueDifferences: outcome.valueDifferences,
    nestedJsonArrays: outcome.nestedJsonArrays,
    lossy: outcome.lossy,
    integrity: outcome.integrity,
    directCopy: outcome.directCopy,
    durationMs: Math.round(performance.now() - started),
    phases: outcome.phases,
  };
  logger().info(
    {
      command: 'materialize',
      phase: 'done',
      rows: outcome.loaded,
      ms: result.durationMs,
      phases: outcome.phases,
    },
    'materialize: done',
  );
  return { outcome, result };
}

/**
 * Runs `work` on `client` until `signal` aborts: then the running statement is cancelled (a
 * CancelRequest: the server stops at once) and the connection ended, so no commit can follow, and the
 * promise rejects with MaterializeInterrupted whatever error the stopped work gave. Not once
 * `committing()`: ending the connection then could leave a committed load reported as rolled back.
 */
async function untilAborted<T>(
  client: pg.Client,
  url: DatabaseUrl,
  signal: AbortSignal | undefined,
  committing: () => boolean,
  work: () => Promise<T>,
): Promise<T> {
  if (!signal) return work();
  if (signal.aborted) throw new MaterializeInterrupted(signal.reason);
  const stop = (): void => {
    if (committing()) return;
    cancelStatement(client, url);
    void client.end().catch(() => {});
  };
  signal.addEventListener('abort', stop, { once: true });
  try {
    return await work();
  } catch (error) {
    if (signal.aborted) throw new MaterializeInterrupted(signal.reason);
    throw error;
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

/**
 * Loads a capsule into the replay database in one transaction (SPEC §5): checks app, subject keys and
 * target safety first; stages rows into temp tables (COPY or jsonb chunks), deletes the graph's rows,
 * upserts, verifies, commits. On any failure the transaction is rolled back and the error thrown.
 */
export async function materialize(options: MaterializeOptions): Promise<MaterializeResult> {
  return withSignals(options, async (withSignal) => (await run(withSignal, false)).result);
}

/** `work` with options whose signal also aborts on SIGINT/SIGTERM, when `handleSignals` asks for it. */
async function withSignals<T>(
  options: MaterializeOptions,
  work: (options: MaterializeOptions) => Promise<T>,
): Promise<T> {
  if (!options.handleSignals) return work(options);
  const controller = new AbortController();
  const forward = (): void => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', forward, { once: true });
  const removeHandlers = handleInterrupts(controller);
  try {
    return await work({ ...options, signal: controller.signal });
  } finally {
    removeHandlers();
    options.signal?.removeEventListener('abort', forward);
  }
}

export interface ExplainResult extends MaterializeResult {
  plans: { label: string; sql: string; plan: string }[];
}

/** `--explain`: stages the capsule, runs deletes and upserts under EXPLAIN ANALYZE, then rolls back. */
export async function explainMaterialize(options: MaterializeOptions): Promise<ExplainResult> {
  return withSignals(options, async (withSignal) => {
    const { outcome, result } = await run(withSignal, true);
    return { ...result, verified: false, plans: outcome.plans };
  });
}

export interface MaterializePlan {
  app: string;
  capsule: string;
  strategy: LoadStrategy;
  subject: Record<string, string>;
  statements: { label: string; sql: string; values: unknown[] }[];
}

/**
 * `--dry-run-sql`: the statements materialize would run, without connecting. Upsert column lists come
 * from the replay database's catalog at run time; here they are shown as the columns the table's first
 * capsule row has, or `…` for tables without rows.
 */
export async function planMaterialize(
  options: Omit<MaterializeOptions, 'databaseUrl'> & { databaseUrl?: DatabaseUrl | undefined },
): Promise<MaterializePlan> {
  const { strategy, chunkSize } = defaults(options);
  const reader = await openCapsule(options.capsulePath);
  // Nothing is connected to or written here; the real run checks the target.
  const prepared = prepare(options, reader.header, true);
  const firstRows = await firstRowKeys(reader);
  const statements: MaterializePlan['statements'] = [];
  const push = (label: string, sql: Sql) => statements.push({ label, sql: sql.text, values: sql.values });
  const tables = prepared.tables.filter((table) => Object.hasOwn(firstRows, table.name));
  push('transaction', { text: 'begin', values: [] });
  tables.forEach((table, index) => {
    push(`tables[${table.name}] stage`, createStageSql(table.name, index));
    push(
      `tables[${table.name}] stage`,
      strategy === 'copy'
        ? copyStageSql(table.name, index)
        : { ...insertStageChunkSql(table.name, index, []), values: [`[…up to ${chunkSize} rows…]`] },
    );
  });
  for (const table of [...tables].reverse()) {
    const sql = deleteSql(table, options.manifest.subjectKeys, prepared.graphKeys);
    if (sql) push(`tables[${table.name}] delete`, sql);
  }
  tables.forEach((table, index) => {
    const columns = firstRows[table.name]!;
    if (columns.length === 0) return;
    const sql = upsertSql(table.name, index, { columns, primaryKey: [], overridingSystemValue: false });
    push(`tables[${table.name}] upsert`, {
      ...sql,
      text: `${sql.text}\n-- on conflict (<primary key>) do update set …: columns from the replay database's catalog`,
    });
  });
  push('transaction', { text: 'commit', values: [] });
  return {
    app: options.manifest.appId,
    capsule: options.capsulePath,
    strategy,
    subject: prepared.subject,
    statements,
  };
}

/** Keys of each table's first row (the whole capsule is read once, to verify it as well). */
async function firstRowKeys(reader: {
  rows(): AsyncIterable<{ table: string; text: string }>;
  summary(): { rowCounts: Record<string, number> };
}): Promise<Record<string, string[]>> {
  const keys: Record<string, string[]> = {};
  for await (const row of reader.rows()) {
    if (!Object.hasOwn(keys, row.table)) keys[row.table] = Object.keys(JSON.parse(row.text) as object);
  }
  for (const table of Object.keys(reader.summary().rowCounts))
    if (!Object.hasOwn(keys, table)) keys[table] = [];
  return keys;
}

/** The checks and rewrite plan every mode (run, explain, dry run) starts from. */
function prepare(
  options: Omit<MaterializeOptions, 'databaseUrl'> & { databaseUrl?: DatabaseUrl | undefined },
  header: CapsuleHeader,
  allowUnsafeTarget: boolean | undefined,
): ReturnType<typeof prepareMaterialize> {
  return prepareMaterialize({
    manifest: options.manifest,
    header,
    databaseUrl: options.databaseUrl,
    rewriteSubject: options.rewriteSubject,
    useLocalSubject: options.useLocalSubject,
    allowUnsafeTarget,
    ...(options.env ? { env: options.env } : {}),
  });
}
