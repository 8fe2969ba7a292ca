import type pg from 'pg';

import { buildPieceSample, type PieceRange } from '../graph/export-sql.js';
import type { ParsedManifest, ParsedTable } from '../manifest/index.js';
import type { DatabaseUrl } from '../postgres/database-url.js';
import { toDatabaseError } from '../postgres/errors.js';
import { parseTableName } from '../postgres/identifiers.js';
import { readUnrepeatableTables } from './closure-catalog.js';
import { pieceColumn, type PlanOf, planOf, sampledValues } from './piece-catalog.js';
import { perRowProblem } from './piece-plan.js';

/**
 * Pieces of one big table read on both connections (issues #16, #18): an export whose last table is most
 * of its work leaves the other connection idle for that long (the simple benchmark: `events`, 4.9 s of
 * 5.5 s, alone at the end). Such a table is read as ranges of its order, one query per range, each
 * taken by the next free connection; the capsule gets them one after the other (capsule/table-pieces.ts),
 * the same bytes as the table read at once.
 *
 * Only where ranges certainly give every row once, in order (docs/export.md, step 5):
 * - the first `order by` term is `<alias>.<column>` (ascending, no NULLS clause), `alias` being the
 *   table's, and `from` starts with the table itself under that alias (pieceCandidate);
 * - the column is NOT NULL and compared by its type's default btree operators, named (piece-catalog.ts);
 * - the table's plan passes each of its rows on alone (piece-plan.ts), and its snippets read neither the
 *   clock nor the connection (closure-catalog.ts, rowSql included).
 * Split values come from a sample of the subject's rows in the table, else its pg_stats histogram.
 */
export interface PieceCandidate {
  /** The term as written in `order by` (`e.id`): ranges compare it. */
  expression: string;
  column: string;
  /** Where `from`'s first item (`<table> <alias>`) ends: a sample's `tablesample` goes there. */
  fromItemEnd: number;
}

const identifier = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;
const qualified = String.raw`${identifier}(?:\.${identifier})?`;
const firstTerm = new RegExp(String.raw`^\s*(${identifier}\.${identifier})(?:\s+asc)?\s*(?:,|$)`, 'i');
const firstFromItem = new RegExp(String.raw`^\s*(${qualified})\s+(?:as\s+)?(${identifier})(?=[\s,]|$)`, 'i');

/** What `table` may be split on, or why not (a phrase). */
export function pieceCandidate(table: ParsedTable): PieceCandidate | string {
  const term = firstTerm.exec(table.orderBy ?? '');
  if (!term) return 'its first order by term is not <alias>.<column> ascending';
  const parsedTerm = parseTableName(term[1]!);
  const alias = parseTableName(table.alias);
  if (typeof parsedTerm === 'string' || typeof alias === 'string') return 'its order by is not a column';
  if (parsedTerm.schema !== alias.name) return 'its order by column is not of the table alias';
  const from = firstFromItem.exec(table.from);
  if (!from) return 'its from does not start with the table and its alias';
  const fromTable = parseTableName(from[1]!);
  const fromAlias = parseTableName(from[2]!);
  const manifestTable = parseTableName(table.name);
  if (typeof fromTable === 'string' || typeof fromAlias === 'string' || typeof manifestTable === 'string')
    return 'its from does not start with the table and its alias';
  if (fromAlias.name !== alias.name) return 'its from does not name the table by its alias';
  if (
    fromTable.name !== manifestTable.name ||
    (fromTable.schema ?? manifestTable.schema) !== manifestTable.schema
  )
    return 'its from does not start with the table';
  return { expression: term[1]!, column: parsedTerm.name, fromItemEnd: from[0].length };
}

const maxPieces = 4;

/** How many pieces each table split is read in (undefined: none is). */
export function pieceCounts(
  pieces: ReadonlyMap<string, readonly PieceRange[]>,
): Record<string, number> | undefined {
  return pieces.size > 0
    ? Object.fromEntries([...pieces].map(([name, ranges]) => [name, ranges.length]))
    : undefined;
}
/**
 * Tables on disk smaller than this are read whole: pieces are for tables whose reading takes seconds.
 * (Not the planner's row estimate: it joins graph_keys by averages, 5,000 rows for the realistic
 * benchmark's 250,000 tickets.)
 */
const defaultMinTableBytes = 16 << 20;

/**
 * Pieces for a table of planned cost `cost` among tables costing `total` in all, read over `lanes`
 * connections: as many as make each at most total / (2 × lanes), so the connections end together; at
 * most maxPieces. 1: read it whole.
 */
export function pieceCount(cost: number, total: number, lanes: number): number {
  if (lanes < 2 || !(total > 0) || !(cost > 0)) return 1;
  return Math.max(1, Math.min(maxPieces, Math.ceil(cost / (total / (2 * lanes)) - 1e-9)));
}

/** `count - 1` split values at even quantiles of a histogram's bounds (repeated ones dropped). */
export function splitValues(bounds: readonly string[], count: number): string[] {
  if (count < 2 || bounds.length < 2 * count) return [];
  const values: string[] = [];
  for (let k = 1; k < count; k++) {
    const value = bounds[Math.round(((bounds.length - 1) * k) / count)]!;
    if (values.at(-1) !== value) values.push(value);
  }
  return values;
}

/** The ranges between split values: below the first, …, from the last on. */
export function pieceRanges(
  candidate: PieceCandidate,
  column: { type: string; operators: PieceRange['operators'] },
  splits: readonly string[],
): PieceRange[] {
  return [undefined, ...splits].map((from, index) => ({
    expression: candidate.expression,
    type: column.type,
    operators: column.operators,
    from,
    below: splits[index],
  }));
}

/**
 * The pieces' planned cost, summed, may be at most this times the whole table's. The planner's cost of
 * a range scan over an index other than the one the table is stored in order of counts most of the
 * table's pages per piece; a join (`ticket_events` joining `tickets`) is repeated per piece (1.9 times).
 */
const defaultMaxCostRatio = 1.2;

export interface PieceOptions {
  /** Connections the export reads on. */
  lanes: number;
  /** Tables smaller on disk are read whole (default 16 MiB; tests lower it). */
  minTableBytes?: number;
  /** See defaultMaxCostRatio (tests raise it, to read pieces whatever the plan). */
  maxCostRatio?: number;
}

/** What the sample queries are built from, and where errors are reported against. */
interface PieceContext {
  manifest: ParsedManifest;
  graphSize: number;
  url: DatabaseUrl;
}

/** Sampled order values per piece, at least, for the split values to come from the sample. */
const minSampleRows = 50;
/** Table pages a sample reads, about (`tablesample system` reads whole pages). */
const samplePages = 256;

/** The `tablesample system` percentage that reads about samplePages of a table of `bytes`. */
export function samplePercent(bytes: number): number {
  const pages = Math.max(1, bytes / 8192);
  return Math.min(100, Math.max(0.01, Math.round((samplePages / pages) * 10000) / 100));
}

interface PlannedTable {
  table: ParsedTable;
  /** Never in pieces (its cost still counts in the export's). */
  whole?: boolean;
  /** The table's SELECT as the export runs it (buildTableQuery), and the same for a piece. */
  select: (piece?: PieceRange) => string;
}

/**
 * Which tables to read in pieces (see above), by name, with their ranges. Asks the planner for every
 * table's plan and cost (EXPLAIN, nothing run), the catalog for the order column, and a sample of the
 * table for the split values, in the export's transaction, under a savepoint. Read whole: a table whose
 * plan does not give each row on its own (piece-plan.ts), whose snippets may select other rows when run
 * again, in another statement on the other connection (the clock, the connection: closure-catalog.ts;
 * `rowSql` included), or whose pieces would cost the server more than maxCostRatio times the whole. A
 * failure here only means no pieces (rolled back to the savepoint): the export's own queries report what
 * is wrong with a snippet; a lost connection is reported as such.
 */
export async function planTablePieces(
  client: pg.Client,
  tables: readonly PlannedTable[],
  options: PieceOptions,
  context: PieceContext,
): Promise<Map<string, PieceRange[]>> {
  const candidates = tables.flatMap(({ table, select, whole }) => {
    const candidate = whole ? 'read whole' : pieceCandidate(table);
    return typeof candidate === 'string' ? [] : [{ table, select, candidate }];
  });
  if (options.lanes < 2 || candidates.length === 0) return new Map();
  const statement = async (sql: string) => {
    try {
      await client.query(sql);
    } catch (error) {
      throw toDatabaseError(error, { url: context.url, action: 'export' });
    }
  };
  await statement('savepoint replay_table_pieces');
  try {
    const pieces = await choosePieces(client, tables, candidates, options, context);
    await statement('release savepoint replay_table_pieces');
    return pieces;
  } catch (error) {
    // Not the planning's failure when the connection itself is gone: that one is the export's.
    await statement('rollback to savepoint replay_table_pieces').catch(() => {
      throw toDatabaseError(error, { url: context.url, action: 'export' });
    });
    return new Map();
  }
}

async function choosePieces(
  client: pg.Client,
  tables: readonly PlannedTable[],
  candidates: ReadonlyArray<PlannedTable & { candidate: PieceCandidate }>,
  options: PieceOptions,
  context: PieceContext,
): Promise<Map<string, PieceRange[]>> {
  const { lanes, minTableBytes = defaultMinTableBytes, maxCostRatio = defaultMaxCostRatio } = options;
  const pieces = new Map<string, PieceRange[]>();
  const plans = new Map<string, PlanOf>();
  for (const { table, select } of tables) plans.set(table.name, await planOf(client, select()));
  const total = [...plans.values()].reduce((sum, plan) => sum + plan.cost, 0);
  const counted = candidates
    .map((entry) => ({ ...entry, count: pieceCount(plans.get(entry.table.name)!.cost, total, lanes) }))
    .filter(({ count }) => count >= 2);
  // The snippet test (~0.1 s of catalog reading) only for tables big enough to be cut at all.
  const unrepeatable =
    counted.length === 0
      ? new Set<string>()
      : await readUnrepeatableTables(
          client,
          context.url,
          counted.map(({ table }) => table),
          { rowSql: true },
        );
  for (const { table, select, candidate, count } of counted) {
    const plan = plans.get(table.name)!;
    if (unrepeatable.has(table.name)) continue;
    const column = await pieceColumn(client, table.name, candidate.column);
    if (!column || column.bytes < minTableBytes) continue;
    if (perRowProblem(plan.plan, parsedAlias(table), column.relations)) continue;
    const worthIt = async (splits: readonly string[]) => {
      let cost = 0;
      for (const range of pieceRanges(candidate, column, splits))
        cost += (await planOf(client, select(range))).cost;
      return cost <= plan.cost * maxCostRatio;
    };
    // The plans' shape hardly depends on where the split values fall: checked before sampling.
    const histogram = splitValues(column.bounds, count);
    if (histogram.length > 0 && !(await worthIt(histogram))) continue;
    const sample = buildPieceSample(context.manifest, table, {
      ...candidate,
      percent: samplePercent(column.bytes),
      graphSize: context.graphSize,
    });
    const sampled = await sampledValues(client, sample);
    const splits = sampled.length >= minSampleRows * count ? splitValues(sampled, count) : histogram;
    if (splits.length === 0 || (histogram.length === 0 && !(await worthIt(splits)))) continue;
    pieces.set(table.name, pieceRanges(candidate, column, splits));
  }
  return pieces;
}

/** The table's alias as PostgreSQL stores it (unquoted: folded to lower case). */
function parsedAlias(table: ParsedTable): string {
  const alias = parseTableName(table.alias);
  return typeof alias === 'string' ? table.alias : alias.name;
}
