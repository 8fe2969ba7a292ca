import type pg from 'pg';

import type { PieceRange } from '../graph/export-sql.js';
import { quoteTable } from '../postgres/identifiers.js';
import { extendedQuery } from '../postgres/one-statement.js';
import type { PlanNode } from './piece-plan.js';

/** A SELECT as planned: its total cost and its plan tree (EXPLAIN: planned, not run). */
export interface PlanOf {
  cost: number;
  plan: PlanNode;
}

export async function planOf(client: pg.Client, select: string): Promise<PlanOf> {
  const result = await client.query<Record<string, unknown>>(
    extendedQuery(`explain (format json) ${select}`),
  );
  const plan = (
    Object.values(result.rows[0] ?? {})[0] as Array<{ Plan?: PlanNode & Record<string, unknown> }>
  )[0]?.Plan;
  const cost = Number(plan?.['Total Cost']);
  if (!plan || !Number.isFinite(cost)) throw new Error('no plan cost');
  return { cost, plan };
}

/** What table-pieces.ts needs to know of a table's order column. */
export interface PieceColumn {
  /** Its type, as a cast writes it (format_type). */
  type: string;
  /** Its type's default btree `<` and `>=` (PieceRange). */
  operators: PieceRange['operators'];
  /** The table's size on disk: partitions, indexes and TOAST included. */
  bytes: number;
  /** The table's name and its partitions' (as EXPLAIN names the relations it scans). */
  relations: Set<string>;
  /** Its histogram in pg_stats, as text, in order; empty when it has none. */
  bounds: string[];
}

/**
 * The table's order column, when it is NOT NULL and its type (a domain: its base type) has a default
 * btree operator class with `<` and `>=` on the type itself.
 */
export async function pieceColumn(
  client: pg.Client,
  table: string,
  column: string,
): Promise<PieceColumn | undefined> {
  const operator = (strategy: number) => `(
    select format('operator(%I.%s)', n.nspname, o.oprname)
      from pg_opclass oc join pg_am am on am.oid = oc.opcmethod and am.amname = 'btree'
      join pg_amop ao on ao.amopfamily = oc.opcfamily and ao.amopstrategy = ${strategy}
                     and ao.amoplefttype = oc.opcintype and ao.amoprighttype = oc.opcintype
      join pg_operator o on o.oid = ao.amopopr join pg_namespace n on n.oid = o.oprnamespace
     where oc.opcdefault and oc.opcintype = coalesce(nullif(t.typbasetype, 0), t.oid))`;
  const { rows } = await client.query<{
    type: string;
    notnull: boolean;
    less_than: string | null;
    at_least: string | null;
    bytes: string;
    relations: string[];
    bounds: string | null;
  }>(
    extendedQuery(
      `select format_type(a.atttypid, null) as type, a.attnotnull as notnull,
              ${operator(1)} as less_than, ${operator(4)} as at_least,
              coalesce((select sum(pg_total_relation_size(p.relid)) from pg_partition_tree(c.oid) p),
                       pg_total_relation_size(c.oid)) as bytes,
              array(select r.relname::text from pg_class r
                     where r.oid = c.oid or r.oid in (select p.relid from pg_partition_tree(c.oid) p)) as relations,
              (select s.histogram_bounds::text from pg_stats s
                where s.schemaname = n.nspname and s.tablename = c.relname and s.attname = a.attname
                order by s.inherited desc limit 1) as bounds
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
         join pg_attribute a on a.attrelid = c.oid and a.attname = $2 and a.attnum > 0 and not a.attisdropped
         join pg_type t on t.oid = a.atttypid
        where c.oid = to_regclass($1)`,
      [quoteTable(table), column],
    ),
  );
  const row = rows[0];
  if (!row?.notnull || row.less_than === null || row.at_least === null) return undefined;
  const found = {
    type: row.type,
    operators: { lessThan: row.less_than, atLeast: row.at_least },
    bytes: Number(row.bytes),
    relations: new Set(row.relations),
  };
  if (row.bounds === null) return { ...found, bounds: [] };
  // The server reads the bounds back as values of the column's type (its array syntax, its quoting).
  const values = await client.query<{ value: string }>(
    extendedQuery(
      `select x::text as value from unnest($1::text::${row.type}[]) with ordinality as u(x, i) order by i`,
      [row.bounds],
    ),
  );
  return { ...found, bounds: values.rows.map((value) => value.value) };
}

/**
 * A sample of the table's rows in the export, their order values in order (buildPieceSample), under its
 * own savepoint: a `from` that takes no `tablesample` (a view, a function) only means no sample.
 */
export async function sampledValues(client: pg.Client, sql: string): Promise<string[]> {
  await client.query('savepoint replay_piece_sample');
  try {
    const { rows } = await client.query<{ value: string }>(extendedQuery(sql));
    await client.query('release savepoint replay_piece_sample');
    return rows.map((row) => row.value);
  } catch {
    await client.query('rollback to savepoint replay_piece_sample');
    return [];
  }
}
