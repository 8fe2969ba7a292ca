import { lossyOfTrailer } from '../capsule/lossy-values.js';
import { type CapsuleWriter, createCapsuleWriter } from '../capsule/writer.js';
import { closeClient } from '../export/close-client.js';
import { exportWithClosure } from '../export/closure.js';
import { resolveLossyColumns } from '../export/lossy-columns.js';
import { exportPlainTables } from '../export/plain-tables.js';
import {
  applySessionSettings,
  beginExportStatements,
  beginExportTransaction,
  readGraph,
} from '../export/snapshot.js';
import {
  exportSnapshotId,
  limitToTwoConnections,
  openSnapshotPeer,
  twoConnectionStatements,
} from '../export/snapshot-peer.js';
import type { PieceOptions } from '../export/table-pieces.js';
import { emptyWindowedTables } from '../export/window-hint.js';
import {
  buildGraphQuery,
  buildSessionSettings,
  buildTableCopy,
  buildTableQuery,
} from '../graph/export-sql.js';
import { logger } from '../log.js';
import type { ParsedManifest, Subject } from '../manifest/index.js';
import { connect } from '../postgres/connect.js';
import type { DatabaseUrl } from '../postgres/database-url.js';
import { toDatabaseError } from '../postgres/errors.js';
import { extendedQuery, isMultipleCommands, multipleStatementsError } from '../postgres/one-statement.js';
import { identifyServer } from '../postgres/server-identity.js';
import { createRowRedactor } from '../redaction/index.js';
import { toolInfo } from '../tool-info.js';

export type RedactionMode = 'safe' | 'raw';

export interface ExportOptions {
  manifest: ParsedManifest;
  /** Parsed with parseSubject: exactly the manifest's subject keys. */
  subject: Subject;
  databaseUrl: DatabaseUrl;
  /** Target file; `.gz` → gzip. Written atomically (temp file + rename). */
  out: string;
  sinceDays: number;
  redaction: RedactionMode;
  /** Running row count of the table being exported (called per received chunk, and once when done). */
  onProgress?: (event: { table: string; rows: number; done: boolean }) => void;
  /** gzip level for `.gz` targets. */
  gzipLevel?: number;
  /** Include phase timings in the result (`--profile`). */
  profile?: boolean;
  /** Keys per closure query (default closureChunkSize); small values exercise chunking in tests. */
  closureChunkSize?: number;
  /**
   * Closure keys per set held in memory before spilling to a temp file (default: env
   * REPLAY_ENV_CLOSURE_KEYS_IN_MEMORY, else defaultKeysInMemory); small values exercise the spill path.
   */
  closureKeysInMemory?: number;
  /**
   * false: every parent's closure rows by passed keys, none by one joining query (default: true unless env
   * REPLAY_ENV_CLOSURE_DIRECT=0; tests and the benchmark measure both paths).
   */
  closureDirect?: boolean;
  /**
   * Big tables read in pieces over both connections (export/table-pieces.ts). false: never (default: on
   * unless env REPLAY_ENV_EXPORT_PIECES=0); the options lower the size or raise the cost that keeps a table
   * whole (tests).
   */
  tablePieces?: false | Omit<PieceOptions, 'lanes'>;
  /** age recipients: the capsule is encrypted while it is written (`out` ends with `.age`). */
  encryptTo?: readonly string[];
  /** Written into the header; loading commands refuse the capsule afterwards. */
  expiresAt?: string;
}

export interface ExportResult {
  /** Absolute path of the written capsule. */
  capsule: string;
  app: string;
  subject: Subject;
  redaction: RedactionMode;
  sinceDays: number;
  exportedAt: string;
  sinceAt: string;
  graph: { size: number; reasons: Record<string, number> };
  rowCounts: Record<string, number>;
  totalRows: number;
  /** Tables with no rows whose SQL reads the `since_at` window: the window may have excluded them. */
  emptyWindowed: string[];
  bytes: number;
  sha256: string;
  durationMs: number;
  /** With `postgres.closure: parents`: per table, rows closure added beyond the table's own `where`. */
  closureRows?: Record<string, number>;
  /**
   * Per table and column, rows whose value the capsule cannot hold exactly (a JSON null in json/jsonb, an
   * array not indexed from 1; graph/lossy-values-sql.ts): a load changes them. Absent when none.
   */
  lossy?: Record<string, Record<string, number>>;
  /**
   * Tables with json/jsonb or array columns whose values the export could not test (their `from` does not
   * name the table by its `alias`): a load of them may change such values unseen. Absent when none.
   */
  lossyUntested?: string[];
  /** Tables read in pieces over both connections (export/table-pieces.ts), and into how many. */
  pieces?: Record<string, number>;
  /** With `profile`: phase timings in ms — connect, graph, one per table (`table:<name>`), finish. */
  phases?: Record<string, number>;
}

/**
 * Exports the subject graph of `subject` into a capsule (SPEC §5): one REPEATABLE READ, READ ONLY
 * transaction; the graph computed once; each table streamed with COPY straight into the capsule file,
 * redacting on the way when `redaction` is `safe`. On any failure nothing exists under `out`.
 */
export async function exportCapsule(options: ExportOptions): Promise<ExportResult> {
  const { manifest, subject, databaseUrl: url } = options;
  const started = performance.now();
  const phases: Record<string, number> = {};
  let mark = started;
  const lap = (name: string, fields: Record<string, unknown> = {}) => {
    const now = performance.now();
    phases[name] = Math.round(now - mark);
    mark = now;
    // Phases as JSON lines on stderr with --log-level info (issue #14 item 8); never URLs or values.
    logger().info({ command: 'export', phase: name, ms: phases[name], ...fields }, `export: ${name}`);
  };

  const client = await connect(url, {
    action: 'export',
    applicationName: 'replay-env export',
    readOnlySession: true,
    endWithClient: true,
  });
  let writer: CapsuleWriter | undefined;
  let peer: Awaited<ReturnType<typeof openSnapshotPeer>>;
  let peerOpening: ReturnType<typeof openSnapshotPeer> | undefined;
  let succeeded = false;
  try {
    // What the server says it is, recorded so materialize can refuse this database by any name.
    const server = await identifyServer(client).catch((error: unknown) => {
      throw toDatabaseError(error, { url, action: 'export' });
    });
    lap('connect');
    await beginExportTransaction(client, url);
    const snapshotId = wantsSecondConnection(options, manifest)
      ? await exportSnapshotId(client, () => beginExportTransaction(client, url)).catch((error: unknown) => {
          throw toDatabaseError(error, { url, action: 'export' });
        })
      : undefined;
    lap('snapshot');
    const graphRead = readGraph(client, url, manifest, subject, options.sinceDays).then(async (graph) => {
      await applySessionSettings(client, url, manifest, subject, graph);
      return graph;
    });
    // A second connection on the same snapshot reads the next table while one is written (table-lanes.ts).
    // It connects and takes the snapshot while the graph query runs; only its settings wait for the graph.
    // (Started with the first connection instead, it slowed the first one's statements by as much as it
    // saved, on a loaded 2-core machine: docs/performance.md, eleventh session.)
    peerOpening = snapshotId
      ? openSnapshotPeer({ url, snapshotId, server, manifest, subject, graph: graphRead })
      : undefined;
    const graph = await graphRead;
    peer = await peerOpening;
    if (peer)
      await limitToTwoConnections([client, peer]).catch((error: unknown) => {
        throw toDatabaseError(error, { url, action: 'export' });
      });
    // After the graph: a failed graph query aborts the transaction, and its error is the one to report.
    const lossy = await resolveLossyColumns(client, url, manifest);
    const lossyColumns = lossy.columns;
    lap('graph', { graphSize: graph.entries.length, connections: peer ? 2 : 1 });
    writer = await createCapsuleWriter(
      options.out,
      {
        app: manifest.appId,
        adapter: manifest.adapter,
        exportedAt: graph.exportedAt,
        window: { sinceDays: options.sinceDays, sinceAt: graph.sinceAt },
        redaction: options.redaction,
        source: {
          kind: 'postgres',
          databaseUrlEnv: manifest.postgres.prodDatabaseUrlEnv,
          exportedBy: 'replay-env',
          database: url.identity(),
          server,
        },
        tool: await toolInfo(),
        subject,
        ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}),
        graph: graph.entries,
      },
      {
        ...(options.gzipLevel === undefined ? {} : { gzipLevel: options.gzipLevel }),
        ...(options.encryptTo?.length ? { encryptTo: options.encryptTo } : {}),
      },
    );
    const tableDone = (name: string, rows: number, ms: number) => {
      // Per table: its own time from start to written (with two connections, tables overlap).
      phases[`table:${name}`] = Math.round(ms);
      logger().info(
        { command: 'export', phase: `table:${name}`, ms: phases[`table:${name}`], table: name, rows },
        `export: table:${name}`,
      );
    };
    const wanted = options.tablePieces ?? (process.env.REPLAY_ENV_EXPORT_PIECES === '0' ? false : {});
    const redactorFor = (table: string) =>
      options.redaction === 'safe' ? createRowRedactor(manifest.redactionRules, table) : undefined;
    let pieces: Record<string, number> | undefined;
    const closure =
      manifest.postgres.closure !== 'none'
        ? await exportWithClosure({
            client,
            peer,
            url,
            manifest,
            writer,
            graphSize: graph.entries.length,
            lossyColumns,
            redactorFor,
            ...(options.onProgress ? { onProgress: options.onProgress } : {}),
            onTableDone: tableDone,
            ...(options.closureChunkSize ? { chunkSize: options.closureChunkSize } : {}),
            ...keysInMemoryOption(options.closureKeysInMemory),
            ...((options.closureDirect ?? process.env.REPLAY_ENV_CLOSURE_DIRECT !== '0')
              ? {}
              : { direct: false }),
            tablePieces: wanted,
          })
        : undefined;
    if (!closure) {
      pieces = await exportPlainTables({
        clients: peer ? [client, peer] : [client],
        url,
        manifest,
        writer,
        graphSize: graph.entries.length,
        lossyColumns,
        redactorFor,
        sqlRedactionRules: sqlRedactionOption(manifest, options.redaction).redactionRules,
        tablePieces: wanted,
        onPieces: (planned) => lap('pieces', { tables: planned ?? {} }),
        onProgress: options.onProgress,
        onTableDone: tableDone,
      });
    }
    mark = performance.now(); // tables were timed each on its own
    try {
      // Read-only: nothing to commit; ending the transactions releases the snapshot before the fsync.
      await peer?.query('rollback');
      await client.query('rollback');
    } catch (error) {
      throw toDatabaseError(error, { url, action: 'export' });
    }
    lap('commit');
    const written = await writer.finish();
    lap('finish', {
      rows: Object.values(written.rowCounts).reduce((sum, n) => sum + n, 0),
      bytes: written.bytes,
    });
    succeeded = true;
    const lossyCounts = lossyOfTrailer(written.integrity.tables);
    const reasons: Record<string, number> = {};
    for (const entry of graph.entries)
      for (const reason of entry.reasons) reasons[reason] = (reasons[reason] ?? 0) + 1;
    return {
      capsule: written.path,
      app: manifest.appId,
      subject,
      redaction: options.redaction,
      sinceDays: options.sinceDays,
      exportedAt: graph.exportedAt,
      sinceAt: graph.sinceAt,
      graph: { size: graph.entries.length, reasons },
      rowCounts: written.rowCounts,
      totalRows: Object.values(written.rowCounts).reduce((sum, rows) => sum + rows, 0),
      emptyWindowed: emptyWindowedTables(manifest, written.rowCounts),
      bytes: written.bytes,
      sha256: written.sha256,
      durationMs: Math.round(performance.now() - started),
      ...(closure ? { closureRows: closure.added } : {}),
      ...((closure?.pieces ?? pieces) ? { pieces: closure?.pieces ?? pieces } : {}),
      ...(lossyCounts ? { lossy: lossyCounts } : {}),
      ...(lossy.untested.length > 0 ? { lossyUntested: lossy.untested } : {}),
      ...(options.profile ? { phases } : {}),
    };
  } finally {
    if (!succeeded) await writer?.abort();
    // The graph query failed while the second connection was opening: it closes itself on that failure.
    peer ??= await peerOpening;
    if (peer) await closeClient(peer, !succeeded);
    await closeClient(client, !succeeded);
  }
}

/**
 * Connections an export may use (default 2; `REPLAY_ENV_EXPORT_CONNECTIONS=1` keeps it to one, e.g. for a
 * role at its connection limit). Measured in docs/performance.md. An encrypted export uses one: a table
 * read ahead is spooled to disk in plain text until it is appended, and plain text must never touch disk.
 */
function connectionsWanted(options: Pick<ExportOptions, 'encryptTo'>): number {
  if (options.encryptTo?.length) return 1;
  return process.env.REPLAY_ENV_EXPORT_CONNECTIONS === '1' ? 1 : 2;
}

/** Whether the export tries a second connection: allowed (connectionsWanted) and more than one table. */
function wantsSecondConnection(options: Pick<ExportOptions, 'encryptTo'>, manifest: ParsedManifest): boolean {
  return connectionsWanted(options) > 1 && manifest.postgres.tables.length > 1;
}

function keysInMemoryOption(given: number | undefined): { keysInMemory?: number } {
  const value = given ?? Number(process.env.REPLAY_ENV_CLOSURE_KEYS_IN_MEMORY);
  return Number.isInteger(value) && value > 0 ? { keysInMemory: value } : {};
}

/**
 * Top-level redaction in SQL (redaction/redaction-sql.ts) is opt-in: `REPLAY_ENV_EXPORT_SQL_REDACTION=1`.
 * Measured (docs/performance.md), it costs the server more CPU than the JS splice path
 * (redaction/top-level-splice.ts) costs Node, and the server is what an export waits on.
 */
function sqlRedactionOption(
  manifest: ParsedManifest,
  redaction: RedactionMode = 'safe',
): { redactionRules?: ParsedManifest['redactionRules'] } {
  if (redaction !== 'safe' || process.env.REPLAY_ENV_EXPORT_SQL_REDACTION !== '1') return {};
  return { redactionRules: manifest.redactionRules };
}

export interface ExportPlan {
  app: string;
  subject: Subject;
  sinceDays: number;
  /** Statements that open the read-only transaction. */
  begin: string[];
  /** The graph query, with its parameter values ($1 … in order). */
  graph: { sql: string; values: unknown[] };
  /** The set_config statement; its values are computed from the graph at run time. */
  session: { sql: string; values: string[] };
  /** Run on both connections when the export reads on two (snapshot-peer.ts). */
  twoConnections: string[];
  /** Each table's COPY, in load order. */
  tables: Array<{ name: string; sql: string }>;
  /** The manifest's closure when it asks for one (its keyed queries need the catalog). */
  closure?: 'parents' | 'parents-and-reference';
}

/** The SQL an export would run (`--dry-run-sql`), built without connecting. */
export function planExport(options: {
  manifest: ParsedManifest;
  subject: Subject;
  sinceDays: number;
  /** Default safe: with REPLAY_ENV_EXPORT_SQL_REDACTION=1 the table SQL then includes the redaction. */
  redaction?: RedactionMode;
}): ExportPlan {
  const { manifest, subject, sinceDays } = options;
  const graph = buildGraphQuery(manifest, subject, sinceDays);
  const session = buildSessionSettings({}, []);
  const keys = manifest.subjectKeys.join(', ');
  return {
    app: manifest.appId,
    subject,
    sinceDays,
    begin: beginExportStatements,
    graph: { sql: graph.text, values: graph.values },
    session: {
      sql: session.text,
      values: [
        `<JSON object: ${keys}, since_at — from the subject and the graph query>`,
        `<JSON array of {${keys}} — the graph query's rows>`,
      ],
    },
    twoConnections: twoConnectionStatements,
    tables: manifest.postgres.tables.map((table) => ({
      name: table.name,
      sql: buildTableCopy(manifest, table, sqlRedactionOption(manifest, options.redaction)).text,
    })),
    ...(manifest.postgres.closure === 'none' ? {} : { closure: manifest.postgres.closure }),
  };
}

export interface ExplainResult {
  app: string;
  subject: Subject;
  graph: { size: number; plan: string };
  tables: Array<{ name: string; plan: string }>;
}

/**
 * `--explain`: EXPLAIN of the graph query and of each table query, inside the same read-only
 * transaction with the real graph handed over via set_config, so the plans are the ones an export gets.
 * Writes no file.
 */
export async function explainExport(options: {
  manifest: ParsedManifest;
  subject: Subject;
  databaseUrl: DatabaseUrl;
  sinceDays: number;
  redaction?: RedactionMode;
}): Promise<ExplainResult> {
  const { manifest, subject, databaseUrl: url } = options;
  const client = await connect(url, {
    action: 'export --explain',
    applicationName: 'replay-env export',
    readOnlySession: true,
    endWithClient: true,
  });
  try {
    await beginExportTransaction(client, url);
    const graphQuery = buildGraphQuery(manifest, subject, options.sinceDays);
    const graphPlan = await explain(client, url, graphQuery.text, graphQuery.values, 'graph query');
    const graph = await readGraph(client, url, manifest, subject, options.sinceDays);
    await applySessionSettings(client, url, manifest, subject, graph);
    // The plans of an export on two connections (the usual case: more than one table, not encrypted).
    if (wantsSecondConnection({}, manifest))
      await limitToTwoConnections([client]).catch((error: unknown) => {
        throw toDatabaseError(error, { url, action: 'export --explain' });
      });
    const lossyColumns = (await resolveLossyColumns(client, url, manifest)).columns;
    const tables: ExplainResult['tables'] = [];
    for (const table of manifest.postgres.tables) {
      const sql = buildTableQuery(manifest, table, {
        graphSize: graph.entries.length,
        lossyColumns: lossyColumns.get(table.name),
        ...sqlRedactionOption(manifest, options.redaction),
      }).text;
      tables.push({ name: table.name, plan: await explain(client, url, sql, [], `table ${table.name}`) });
    }
    await client.query('rollback').catch(() => {});
    return { app: manifest.appId, subject, graph: { size: graph.entries.length, plan: graphPlan }, tables };
  } finally {
    await closeClient(client, false);
  }
}

async function explain(
  client: Awaited<ReturnType<typeof connect>>,
  url: DatabaseUrl,
  sql: string,
  values: unknown[],
  what: string,
): Promise<string> {
  const text = `explain ${sql}`;
  try {
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(extendedQuery(text, values));
    return rows.map((row) => row['QUERY PLAN']).join('\n');
  } catch (error) {
    if (isMultipleCommands(error)) throw multipleStatementsError(`export --explain: ${what}`);
    throw toDatabaseError(error, { url, sql: text, action: `export --explain: ${what}` });
  }
}
