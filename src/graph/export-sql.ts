/**
 * Pure SQL builders for `export-postgres` (SPEC §3, §5). They serve the export itself, `--dry-run-sql`,
 * `--explain` and doctor's SQL checks, so the SQL a user reviews is exactly the SQL that runs.
 *
 * The graph is computed ONCE (buildGraphQuery) and handed to every table query through two
 * transaction-local settings (buildSessionSettings): temp tables are forbidden in a READ ONLY transaction
 * and on replicas, and COPY takes no bind parameters. Each table query re-creates `params` and
 * `graph_keys` as CTEs from those settings (buildTableQuery), so manifest SQL can join them by name.
 *
 * Subject values only ever travel as `$n` parameters or inside the JSON of a setting; identifiers (subject
 * keys) were validated as plain identifiers by the manifest loader and are quoted with quoteIdent; manifest
 * snippets are spliced verbatim after a `/* label *\/` comment that toDatabaseError shows on failure.
 */
import type { ParsedManifest, ParsedRedactionRule, ParsedTable, Subject } from '../manifest/index.js';
import { quoteIdent, quoteLiteral } from '../postgres/identifiers.js';
import { buildSqlRedaction } from '../redaction/redaction-sql.js';
import { type LossyColumn, lossyPrefix } from './lossy-values-sql.js';

export interface SqlStatement {
  text: string;
  values: unknown[];
}

/** One row of the graph query: the subject-key columns, plus these. */
export interface GraphQueryRow {
  [key: string]: unknown;
  reasons: string[];
  /** `since_at` as to_jsonb renders it (e.g. `2026-05-25T23:45:40.535064+00:00`); same on every row. */
  since_at: string;
  /** Transaction timestamp as to_jsonb renders it; same on every row. */
  exported_at: string;
}

/** Names of the transaction-local settings the table queries read. */
export const paramsSetting = 'replay.params';
export const graphKeysSetting = 'replay.graph_keys';

/**
 * The subject graph: the subject itself (reason `subject`) unioned with every graph edge, one row per
 * distinct key tuple, `reasons` deduplicated and sorted, rows ordered by the key columns — the same
 * graph the original tool computed. Also returns `since_at` and `exported_at` (transaction time) as to_jsonb text.
 *
 * @example
 * with params as (select $1::text as "shop_id", $2::text as "customer_id",
 *                        now() - make_interval(days => $3::int) as since_at),
 * edge_0 as (
 * /* graphEdges[0] *\/
 * select n.shop_id, … from order_notes n …, params seed where …
 * ),
 * edges as (select "shop_id", "customer_id", 'subject'::text as reason from params
 *           union all select e."shop_id"::text, e."customer_id"::text, e.reason::text
 *           from edge_0 as e("shop_id", "customer_id", reason)) …
 */
export function buildGraphQuery(manifest: ParsedManifest, subject: Subject, sinceDays: number): SqlStatement {
  const keys = manifest.subjectKeys;
  const cols = keys.map(quoteIdent);
  const values: unknown[] = keys.map((key) => subject[key]);
  values.push(sinceDays);
  const paramsSelect = [
    ...keys.map((_, index) => `$${index + 1}::text as ${cols[index]}`),
    `now() - make_interval(days => $${keys.length + 1}::int) as since_at`,
  ].join(', ');
  const edgeCtes = manifest.postgres.graphEdges.map(
    (edge, index) => `edge_${index} as (\n/* graphEdges[${index}] */\n${edge}\n)`,
  );
  // Edge columns are taken by POSITION (subject keys…, reason), as the original tool's `union all` did:
  // `from edge_0 as e(k1, k2, reason)` renames them, so an edge may name its columns anything.
  const positional = [...cols, 'reason'].join(', ');
  const edgeSelects = manifest.postgres.graphEdges.map(
    (_, index) =>
      `  union all\n  /* graphEdges[${index}] columns */\n  select ${cols.map((col) => `e.${col}::text`).join(', ')}, e.reason::text from edge_${index} as e(${positional})`,
  );
  const colList = cols.join(', ');
  const text = [
    `with params as (\n  select ${paramsSelect}\n),`,
    ...edgeCtes.map((cte) => `${cte},`),
    `/* graph */\nedges as (\n  select ${colList}, 'subject'::text as reason from params`,
    ...edgeSelects,
    `)`,
    // As the original: a key tuple with a null or empty key identifies no one and is dropped; reasons
    // are distinct and sorted, nulls removed.
    `select ${colList},`,
    `       array_remove(array_agg(distinct reason order by reason), null) as reasons,`,
    `       (select to_jsonb(since_at) #>> '{}' from params) as since_at,`,
    `       to_jsonb(now()) #>> '{}' as exported_at`,
    `from edges`,
    `where ${cols.map((col) => `coalesce(${col}, '') <> ''`).join(' and ')}`,
    `group by ${colList}`,
    `order by ${colList}`,
  ].join('\n');
  return { text, values };
}

/**
 * The SELECT of one table (one JSON text column per row), reading `params` and `graph_keys` from the
 * settings made by buildSessionSettings. Usable standalone (e.g. under EXPLAIN) once those are set.
 *
 * `(<rowSql>)::jsonb::text`: jsonb text never contains a raw newline or the byte 0x02, which the lines
 * the export reads rely on (export/binary-lines.ts); a `json` rowSql (which keeps its input's whitespace)
 * is normalized on the way.
 *
 * @example
 * with params as (select p."shop_id", p."customer_id", p.since_at
 *   from jsonb_to_record(current_setting('replay.params')::jsonb) as p("shop_id" text, "customer_id" text, since_at timestamptz)),
 * graph_keys as (select g."shop_id", g."customer_id"
 *   from rows from (unnest(array(select e.k ->> 'shop_id' from jsonb_array_elements(…) …)), …) as g(…))
 * select (
 * /* tables[orders].rowSql *\/
 * to_jsonb(o)
 * )::jsonb::text
 * from
 * /* tables[orders].from *\/
 * orders o join graph_keys g on …
 * where
 * /* tables[orders].where *\/
 * o.placed_at >= (select since_at from params)
 * order by
 * /* tables[orders].orderBy *\/
 * o.id
 */
export function buildTableQuery(
  manifest: ParsedManifest,
  table: ParsedTable,
  options: TableQueryOptions = {},
): TableQuery {
  const label = `tables[${table.name}]`;
  const ctes = settingsCtes(manifest.subjectKeys, options.graphSize);
  const prefix = lossyPrefix(table.alias, options.lossyColumns ?? []);
  const source = (column: string, prefixAs?: string) => {
    const row = `(\n/* ${label}.rowSql */\n${table.rowSql}\n)::jsonb${column}`;
    const select = !prefix ? row : prefixAs ? `${row}, ${prefix} as ${prefixAs}` : `${prefix} || ${row}`;
    const parts = [`select ${select}`, `from\n/* ${label}.from */\n${table.from}`];
    const where = whereClause(label, table.where, options.piece);
    if (where) parts.push(where);
    if (table.orderBy) parts.push(`order by\n/* ${label}.orderBy */\n${table.orderBy}`);
    return parts.join('\n');
  };
  const redacted = options.redactionRules
    ? buildSqlRedaction(options.redactionRules, table.name, source(' as r', 'n'), prefix !== undefined)
    : undefined;
  if (redacted) return { text: `${ctes}\n${redacted.text}`, redactedInSql: true };
  return { text: `${ctes}\n${source('::text')}`, redactedInSql: false };
}

export interface TableQuery {
  text: string;
  /**
   * The query applies the redaction rules itself (redaction/redaction-sql.ts): rows starting with
   * jsRedactionMarker are left to the JS redactor, the others are final.
   */
  redactedInSql: boolean;
}

export interface TableQueryOptions {
  /**
   * Number of graph keys, when known (the export knows it; doctor and --dry-run-sql do not, and get an
   * estimate of 10): graph_keys then tells the planner exactly that many rows (settingsCtes). Too many
   * assumed (100, from the `jsonb_to_recordset` graph_keys once was) and for one subject owning most of a
   * table it chose a hash join over a sequential scan plus an on-disk sort instead of walking the index
   * (measured: 116 MB spilled for 700,000 rows). The count is not a `limit` (as it was until the tenth
   * session): PostgreSQL never runs a subquery with a LIMIT in a parallel worker, and raw COPY of the
   * same rows gets parallel plans (docs/performance.md, test/integration/export/graph-keys-plan.test.ts).
   */
  graphSize?: number;
  /** The table's json/jsonb columns: rows holding a JSON null in one are marked (lossy-values-sql.ts). */
  lossyColumns?: readonly LossyColumn[];
  /** The manifest's redaction rules, for a `safe` export that redacts top-level fields in SQL. */
  redactionRules?: readonly ParsedRedactionRule[];
  /** Only the rows of one piece of the table (export/table-pieces.ts). */
  piece?: PieceRange;
}

/**
 * A range of a table's order: the rows whose first `order by` term (`expression`, a NOT NULL column of
 * the table written `<alias>.<column>`) is at least `from` and below `below` (each a value's text, cast to
 * `type`; absent: unbounded). Its operators are the type's btree order, the one `order by` sorts by, so
 * the pieces, one after the other, hold every row once, in the table's order.
 */
export interface PieceRange {
  expression: string;
  type: string;
  /**
   * The type's default btree `<` and `>=` (strategies 1 and 4) as `operator(<schema>.<name>)`: named,
   * not looked up through the search path (citext's, its schema not on it, would resolve to text's).
   */
  operators: { lessThan: string; atLeast: string };
  from?: string | undefined;
  below?: string | undefined;
}

/**
 * A sample of a table's rows in the export, `order by` column only, in order: `from` with `tablesample
 * system (<percent>) repeatable (0)` after its first item (`<table> <alias>`, which ends at
 * `fromItemEnd`), the table's own `where`. Its values split the subject's rows evenly
 * (export/table-pieces.ts), where the whole table's histogram would not. At most 100,000 values.
 * `repeatable`: the same table gives the same pages, so the same pieces, on every export.
 */
export function buildPieceSample(
  manifest: ParsedManifest,
  table: ParsedTable,
  sample: { expression: string; fromItemEnd: number; percent: number; graphSize?: number | undefined },
): string {
  const label = `tables[${table.name}]`;
  const from = `${table.from.slice(0, sample.fromItemEnd)} tablesample system (${sample.percent}) repeatable (0)${table.from.slice(sample.fromItemEnd)}`;
  return [
    settingsCtes(manifest.subjectKeys, sample.graphSize),
    `select (${sample.expression})::text as value`,
    `from\n/* ${label}.from, sampled */\n${from}`,
    whereClause(label, table.where),
    `order by ${sample.expression}`,
    'limit 100000',
  ]
    .filter((part) => part !== undefined)
    .join('\n');
}

/** A table's `where` (labelled), and the range of one piece of it (absent: the whole table). */
export function whereClause(
  label: string,
  where: string | undefined,
  piece?: PieceRange,
): string | undefined {
  const range = piece ? `/* ${label}: one piece of its order */ ${pieceCondition(piece)}` : undefined;
  if (where && range) return `where (\n/* ${label}.where */\n${where}\n)\nand ${range}`;
  if (where) return `where\n/* ${label}.where */\n${where}`;
  return range && `where ${range}`;
}

/**
 * The condition of one piece:
 * `e.id operator(pg_catalog.>=) '350001'::bigint and e.id operator(pg_catalog.<) '700001'::bigint`.
 */
export function pieceCondition(range: PieceRange): string {
  const bound = (operator: string, value: string | undefined) =>
    value === undefined ? [] : [`${range.expression} ${operator} ${quoteLiteral(value)}::${range.type}`];
  const parts = [
    ...bound(range.operators.atLeast, range.from),
    ...bound(range.operators.lessThan, range.below),
  ];
  return parts.length > 0 ? parts.join(' and ') : 'true';
}

/** PostgreSQL (12–17) estimates `unnest` of a computed array at 10 rows; of a written-out list, its length. */
const unnestDefaultRows = 10;

/**
 * The `params` and `graph_keys` CTEs, rebuilt from the transaction-local settings.
 *
 * graph_keys is one text array per subject key, zipped by `rows from (unnest(…), …)`, rather than
 * `jsonb_to_recordset`: its columns stay plain columns and, with `graphSize`, the planner's estimate is the
 * real count, with no LIMIT (which would forbid parallel plans): `generate_series(1, <n>)` is estimated
 * at exactly n rows and a ROWS FROM at its largest function's estimate; below 10 keys each array is
 * written out (`array[<key 0>, <key 1>]`), whose unnest is estimated at its length; one key tuple is one
 * row of scalar subqueries (oneKeyTuple). Keys are read with `->>` from the same JSON (never spliced into
 * an array literal), in the JSON array's order. (Planner support functions came with PostgreSQL 12; an
 * 11 server, not tested, would assume 1,000 rows.)
 *
 * @example
 * graph_keys as (
 *   select g."shop_id", g."customer_id"
 *   from rows from (
 *     unnest(array(select e.k ->> 'shop_id' from jsonb_array_elements(current_setting('replay.graph_keys')::jsonb) with ordinality as e(k, i) order by e.i)),
 *     unnest(array(select e.k ->> 'customer_id' from …)),
 *     generate_series(1, 25)
 *   ) as g("shop_id", "customer_id", "replay graph row")
 * )
 */
export function settingsCtes(subjectKeys: readonly string[], graphSize?: number): string {
  const cols = subjectKeys.map(quoteIdent);
  const typed = cols.map((col) => `${col} text`).join(', ');
  const size = graphSize === undefined ? undefined : Math.max(0, Math.floor(graphSize));
  return [
    `with params as (`,
    `  select ${cols.map((col) => `p.${col}`).join(', ')}, p.since_at`,
    `  from jsonb_to_record(current_setting('${paramsSetting}')::jsonb) as p(${typed}, since_at timestamptz)`,
    `),`,
    `graph_keys as (`,
    size === 1 ? oneKeyTuple(subjectKeys) : keyTuples(subjectKeys, size),
    `)`,
  ].join('\n');
}

const graphKeys = `current_setting('${graphKeysSetting}')::jsonb`;

/** graph_keys' body for any number of key tuples (settingsCtes). */
function keyTuples(subjectKeys: readonly string[], size: number | undefined): string {
  const cols = subjectKeys.map(quoteIdent);
  const keyArray = (key: string) =>
    size !== undefined && size < unnestDefaultRows
      ? `array[${Array.from({ length: size }, (_, index) => `(${graphKeys} -> ${index}) ->> ${quoteLiteral(key)}`).join(', ')}]::text[]`
      : `array(select e.k ->> ${quoteLiteral(key)} from jsonb_array_elements(${graphKeys}) with ordinality as e(k, i) order by e.i)`;
  const functions = subjectKeys.map((key) => `unnest(${keyArray(key)})`);
  const names = [...cols];
  if (size !== undefined) {
    functions.push(`generate_series(1, ${size})`);
    names.push('"replay graph row"');
  }
  return [
    `  select ${cols.map((col) => `g.${col}`).join(', ')}`,
    `  from rows from (`,
    functions.map((fn) => `    ${fn}`).join(',\n'),
    `  ) as g(${names.join(', ')})`,
  ].join('\n');
}

/**
 * graph_keys' body for exactly one key tuple: one row of scalar subqueries. The planner pulls it up and
 * the join on it becomes a filter on values computed once (InitPlans), the plan of a written-out
 * `where account_id = '…'`; a `rows from (…)` of one row is joined to the table (a hash join, or a
 * nested loop that reads it again for every row of the table: 4.33 s against 4.10 s on 1M rows).
 */
function oneKeyTuple(subjectKeys: readonly string[]): string {
  const values = subjectKeys.map(
    (key) => `(select (${graphKeys} -> 0) ->> ${quoteLiteral(key)}) as ${quoteIdent(key)}`,
  );
  return `  select ${values.join(', ')}`;
}

/**
 * One statement that resolves tables' lossy-value tests against their own `from`/`where` and reads no
 * row: the tests name each table by `table.alias` ("t" unless the manifest says), which a manifest (the
 * original tool's too) may not use in its `from` (`orders o`). `tests: false` gives the same statement
 * without them, to tell that case from a snippet that fails on its own. All tables at once first (one
 * round trip); one by one only when that fails.
 *
 * @example
 * with params as (…), graph_keys as (…)
 * (select coalesce(chr(4) || …, '') from orders t where t.region = 'eu' limit 0)
 * union all
 * (select …)
 */
export function buildLossyProbe(
  manifest: ParsedManifest,
  probes: readonly { table: ParsedTable; columns: readonly LossyColumn[] }[],
  tests: boolean,
): string {
  const selects = probes.map(({ table, columns }) => {
    const label = `tables[${table.name}]`;
    return [
      `(select ${tests ? lossyPrefix(table.alias, columns) : "''"}`,
      `from\n/* ${label}.from */\n${table.from}`,
      ...(table.where ? [`where\n/* ${label}.where */\n${table.where}`] : []),
      'limit 0)',
    ].join('\n');
  });
  return [settingsCtes(manifest.subjectKeys), selects.join('\nunion all\n')].join('\n');
}

/**
 * Wraps a table SELECT in binary COPY … TO STDOUT: every column of the export's selects is text (the row's
 * JSON, key tuples), which binary COPY sends verbatim, length-prefixed — no scan of each value for bytes
 * to quote or escape, as CSV or text output makes (export/binary-lines.ts turns the rows into lines).
 */
export function wrapInCopy<T extends { text: string }>(select: T): T {
  return { ...select, text: `copy (\n${select.text}\n) to stdout with (format binary)` };
}

/** buildTableQuery wrapped in COPY: what the export streams. */
export function buildTableCopy(
  manifest: ParsedManifest,
  table: ParsedTable,
  options: TableQueryOptions = {},
): TableQuery {
  return wrapInCopy(buildTableQuery(manifest, table, options));
}

/**
 * Sets `replay.params` and `replay.graph_keys` for the rest of the transaction (set_config(…, true)).
 * `params` is `{<key>: value, …, since_at}`; `graphKeys` the key tuples (extra fields are ignored).
 *
 * @example
 * select set_config('replay.params', $1, true), set_config('replay.graph_keys', $2, true)
 */
export function buildSessionSettings(
  params: Record<string, unknown>,
  graphKeys: readonly Record<string, unknown>[],
): SqlStatement {
  return {
    text: `select set_config('${paramsSetting}', $1, true), set_config('${graphKeysSetting}', $2, true)`,
    values: [JSON.stringify(params), JSON.stringify(graphKeys)],
  };
}
