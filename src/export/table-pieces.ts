import type pg from 'pg';

import type { PieceRange } from '../graph/export-sql.js';
import type { ParsedTable } from '../manifest/index.js';
import { parseTableName, quoteTable } from '../postgres/identifiers.js';
import { extendedQuery } from '../postgres/one-statement.js';

/**
 * Pieces of one big table read on both connections (issue #16): an export whose last table is most of
 * its work leaves the other connection idle for that long (the simple benchmark: `events`, 4.9 s of
 * 5.5 s, alone at the end). Such a table is read as ranges of its order, one query per range, each
 * taken by the next free connection; the capsule gets them one after the other (capsule/table-pieces.ts),
 * the same bytes as the table read at once.
 *
 * Only where ranges certainly cover every row once, in order:
 * - the first `order by` term is `<alias>.<column>` (ascending, no NULLS clause), `alias` being the
 *   table's, and `from` starts with the table itself under that alias and has no outer join (so the
 *   column is never NULL-extended);
 * - the column is NOT NULL (so `>=` and `<` leave no row out) and has a histogram in pg_stats (the split
 *   values: the whole table's quantiles; a subject's rows spread otherwise only make pieces uneven).
 */
export interface PieceCandidate {
  /** The term as written in `order by` (`e.id`): ranges compare it. */
  expression: string;
  column: string;
}

const identifier = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;
const qualified = String.raw`${identifier}(?:\.${identifier})?`;
const firstTerm = new RegExp(String.raw`^\s*(${identifier}\.${identifier})(?:\s+asc)?\s*(?:,|$)`, 'i');
const firstFromItem = new RegExp(String.raw`^\s*(${qualified})\s+(?:as\s+)?(${identifier})(?=[\s,]|$)`, 'i');
const outerJoin = /\b(?:left|right|full)\s+(?:outer\s+)?join\b/i;

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
  if (outerJoin.test(table.from)) return 'its from has an outer join';
  return { expression: term[1]!, column: parsedTerm.name };
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
  type: string,
  splits: readonly string[],
): PieceRange[] {
  return [undefined, ...splits].map((from, index) => ({
    expression: candidate.expression,
    type,
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

interface PlannedTable {
  table: ParsedTable;
  /** Never in pieces (its cost still counts in the export's). */
  whole?: boolean;
  /** The table's SELECT as the export runs it (buildTableQuery), and the same for a piece. */
  select: (piece?: PieceRange) => string;
}

/**
 * Which tables to read in pieces (see above), by name, with their ranges. Asks the planner for every
 * table's cost (EXPLAIN, nothing run) and pg_stats for the split values, in the export's transaction,
 * under a savepoint; a table whose pieces would cost the server more than a fifth above the whole (e.g. a
 * scan repeated per piece) is read whole. A failure here only means no pieces (rolled back to the
 * savepoint): the export's own queries report what is wrong with a snippet.
 */
export async function planTablePieces(
  client: pg.Client,
  tables: readonly PlannedTable[],
  options: PieceOptions,
): Promise<Map<string, PieceRange[]>> {
  const { lanes } = options;
  const candidates = tables.flatMap(({ table, select, whole }) => {
    const candidate = whole ? 'read whole' : pieceCandidate(table);
    return typeof candidate === 'string' ? [] : [{ table, select, candidate }];
  });
  if (lanes < 2 || candidates.length === 0) return new Map();
  await client.query('savepoint replay_table_pieces');
  try {
    const pieces = await choosePieces(client, tables, candidates, options);
    await client.query('release savepoint replay_table_pieces');
    return pieces;
  } catch {
    await client.query('rollback to savepoint replay_table_pieces');
    return new Map();
  }
}

async function choosePieces(
  client: pg.Client,
  tables: readonly PlannedTable[],
  candidates: ReadonlyArray<PlannedTable & { candidate: PieceCandidate }>,
  options: PieceOptions,
): Promise<Map<string, PieceRange[]>> {
  const { lanes, minTableBytes = defaultMinTableBytes, maxCostRatio = defaultMaxCostRatio } = options;
  const pieces = new Map<string, PieceRange[]>();
  const plans = new Map<string, { cost: number }>();
  for (const { table, select } of tables) plans.set(table.name, await planOf(client, select()));
  const total = [...plans.values()].reduce((sum, plan) => sum + plan.cost, 0);
  for (const { table, select, candidate } of candidates) {
    const plan = plans.get(table.name)!;
    const count = pieceCount(plan.cost, total, lanes);
    if (count < 2) continue;
    const column = await columnStats(client, table.name, candidate.column, minTableBytes);
    if (!column) continue;
    const splits = splitValues(column.bounds, count);
    if (splits.length === 0) continue;
    const ranges = pieceRanges(candidate, column.type, splits);
    let cost = 0;
    for (const range of ranges) cost += (await planOf(client, select(range))).cost;
    if (cost <= plan.cost * maxCostRatio) pieces.set(table.name, ranges);
  }
  return pieces;
}

/** The planner's total cost of a SELECT (EXPLAIN: planned, not run). */
async function planOf(client: pg.Client, select: string): Promise<{ cost: number }> {
  const result = await client.query<Record<string, unknown>>(
    extendedQuery(`explain (format json) ${select}`),
  );
  const plan = (Object.values(result.rows[0] ?? {})[0] as Array<{ Plan?: Record<string, unknown> }>)[0]?.Plan;
  const cost = Number(plan?.['Total Cost']);
  if (!Number.isFinite(cost)) throw new Error('no plan cost');
  return { cost };
}

/**
 * SQL: true when the only `<` and `>=` operators on (type, type) are strategies 1 and 4 of the type's
 * default btree operator class, the order `order by` sorts by (a domain: its base type's).
 */
function btreeOrder(type: string): string {
  const only = (name: string, strategy: number) => `
    exists (select from pg_amop o where o.amopfamily = oc.opcfamily and o.amopstrategy = ${strategy}
               and o.amoplefttype = ${type} and o.amoprighttype = ${type}
               and o.amopopr = all (select p.oid from pg_operator p
                                     where p.oprname = '${name}' and p.oprleft = ${type} and p.oprright = ${type}))`;
  return `exists (select from pg_opclass oc join pg_am am on am.oid = oc.opcmethod and am.amname = 'btree'
                   where oc.opcdefault and oc.opcintype = ${type} and ${only('<', 1)} and ${only('>=', 4)})`;
}

/** The column's type and histogram (as text, in order), when it is NOT NULL, has one, and the table is big. */
async function columnStats(
  client: pg.Client,
  table: string,
  column: string,
  minTableBytes: number,
): Promise<{ type: string; bounds: string[] } | undefined> {
  const { rows } = await client.query<{
    type: string;
    notnull: boolean;
    big: boolean;
    btree: boolean;
    bounds: string | null;
  }>(
    extendedQuery(
      `select format_type(a.atttypid, null) as type, a.attnotnull as notnull,
              coalesce((select sum(pg_total_relation_size(p.relid)) from pg_partition_tree(c.oid) p),
                       pg_total_relation_size(c.oid)) >= $3 as big,
              ${btreeOrder('coalesce(nullif(t.typbasetype, 0), t.oid)')} as btree,
              (select s.histogram_bounds::text from pg_stats s
                where s.schemaname = n.nspname and s.tablename = c.relname and s.attname = a.attname
                order by s.inherited desc limit 1) as bounds
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
         join pg_attribute a on a.attrelid = c.oid and a.attname = $2 and a.attnum > 0 and not a.attisdropped
         join pg_type t on t.oid = a.atttypid
        where c.oid = to_regclass($1)`,
      [quoteTable(table), column, minTableBytes],
    ),
  );
  const row = rows[0];
  if (!row?.notnull || !row.big || !row.btree || row.bounds === null) return undefined;
  // The server reads the bounds back as values of the column's type (its array syntax, its quoting).
  const values = await client.query<{ value: string }>(
    extendedQuery(
      `select x::text as value from unnest($1::text::${row.type}[]) with ordinality as u(x, i) order by i`,
      [row.bounds],
    ),
  );
  return { type: row.type, bounds: values.rows.map((value) => value.value) };
}
