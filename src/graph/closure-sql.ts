/**
 * Pure SQL builders for parent closure (`postgres.closure`, docs/app-manifest.md). Closure runs inside the
 * export's READ ONLY snapshot, so — like graph_keys — the keys to fetch travel in a transaction-local
 * setting (`replay.closure_keys`, a JSON array of key tuples), never in a temp table.
 *
 * Every query returns COPY lines `row-json 0x02 key-1 0x02 key-2 …`: one extra column per foreign key the
 * table has into another manifest table, holding the referenced tuple as json array text
 * (`[7, "eu"]`), or NULL when a column is NULL (MATCH SIMPLE: no parent needed). The export strips those
 * columns on the way (key-splitter.ts) and collects the tuples for the parent tables.
 */
import type { ParsedManifest, ParsedTable } from '../manifest/index.js';
import { quoteIdent, quoteTable } from '../postgres/identifiers.js';
import { type PieceRange, settingsCtes, type SqlStatement, whereClause } from './export-sql.js';
import { type LossyColumn, lossyPrefix } from './lossy-values-sql.js';

/** A foreign key between two manifest tables, as closure follows it (child → parent). */
export interface ClosureForeignKey {
  name: string;
  /** Manifest names. */
  child: string;
  parent: string;
  columns: string[];
  referencedColumns: string[];
  /** format_type() of each referenced column (for casting the JSON keys back). */
  referencedTypes: string[];
  /** Each referenced column's collation, schema-qualified and quoted; null where not collatable. */
  referencedCollations?: (string | null)[];
}

export const closureKeysSetting = 'replay.closure_keys';
/** Alias of the key relation inside closure queries; manifest SQL is unlikely to use it. */
const keyAlias = 'replay_closure_key';

/** Integer types whose text form is already the JSON number (no quoting, no NaN/Infinity). */
const integerTypes = new Set(['smallint', 'integer', 'bigint']);

/**
 * The key columns of a row, one per outgoing foreign key, qualified with the table's alias: the key tuple
 * as json array text, built by concatenation (NULL as soon as one column is NULL — MATCH SIMPLE: no
 * parent needed). Integers go as their text, other types through to_json of the referenced column's
 * type, so a child column of another typmod (numeric vs numeric(14,4)) spells a key as the parent does:
 * key sets compare text. json_build_array cost more per row (variadic "any", typed on every call).
 *
 * @example
 * '[' || o."shop_id"::text || ',' || to_json(o."region"::text)::text || ']'
 */
export function keyColumns(alias: string, fks: readonly ClosureForeignKey[]): string[] {
  const a = quoteIdent(alias);
  return fks.map((fk) => {
    const parts = fk.columns.map((col, index) => {
      const ref = `${a}.${quoteIdent(col)}`;
      const type = fk.referencedTypes[index]!;
      if (!integerTypes.has(type)) return keyJson(canonicalKey(exactCast(ref, type), type), type);
      // A wider child integer (a NOT VALID key) may hold a value beyond the parent's type: no parent.
      const range = integerRanges[type];
      return range ? `case when ${ref} between ${range} then ${ref}::text end` : `${ref}::text`;
    });
    return `/* closure key ${commentText(fk.name)} */ '[' || ${parts.join(" || ',' || ")} || ']'`;
  });
}

/**
 * One spelling for the values a type calls equal, so the export's key sets (which compare text) find a
 * key a child spells otherwise than the parent row that reported it: numeric's scale (1.50 is 1.5; a
 * numeric(p,s) key already has the parent's scale from exactCast), float's -0, an interval's units
 * ('24 hours' is '1 day'), citext's case. Other types spell equal values alike, but a text key under a
 * nondeterministic collation (docs/app-manifest.md).
 */
function canonicalKey(value: string, type: string): string {
  if (type === 'numeric') {
    const text = `(${value})::text`;
    return `(case when ${text} like '%.%' then rtrim(rtrim(${text}, '0'), '.') else ${text} end)::numeric`;
  }
  if (type === 'double precision' || type === 'real') return `(${value} + 0)`;
  // justify_interval overflows on a far value ('2147483647 mons 30 days'): such keys keep their spelling.
  if (type === 'interval')
    return `case when ${value} between interval '-100000 years' and interval '100000 years' then justify_interval(${value}) else ${value} end`;
  // citext compares lower() in the database's collation, whatever the column's ("tr-TR-x-icu" lowers I to ı).
  if (/(^|\.)citext$/.test(type)) return `lower((${value})::text collate "default")`;
  return value;
}

/** Types whose to_json is a JSON number, boolean or ISO date-time string that `->>` gives back castable. */
const jsonScalarType = /^(numeric|real|double precision|boolean|date|timestamp)\b/;

/**
 * One key column as JSON text, which the closure query reads back with `(k.value->>i)::type`. to_json of
 * the value for number, boolean and date-time types (their JSON spelling does not depend on DateStyle);
 * to_json of its text for every other type. That is to_json's own spelling for most, but an array, a
 * composite, a jsonb or an hstore would come out as nested JSON, whose `->>` text does not cast back
 * (`["a", "b"]` is a malformed text[] literal).
 */
function keyJson(value: string, type: string): string {
  // `numeric[]` starts like `numeric`: an array is nested JSON whatever its element type.
  const scalar = !type.endsWith('[]') && (jsonScalarType.test(type) || type === 'text');
  const json = scalar ? value : `(${value})::text`;
  return `to_json(${json})::text`;
}

/**
 * `value` cast to the referenced column's `type`, or NULL (no parent needed) when the cast changes it: a
 * cast to a length or precision truncates or rounds ('abcdef'::varchar(3) is 'abc', 1.005::numeric(6,2)
 * is 1.01), where the foreign key compares the value as it is — and a value the parent's type cannot hold
 * exactly equals no parent (a NOT VALID key over old rows). Kept as the parent's type otherwise, so a key
 * is spelt as the parent spells it (numeric 1.5 → numeric(14,4) 1.5000).
 *
 * @example
 * exactCast('o."code"', 'character varying(3)')
 * // case when o."code"::character varying(3) = o."code" then o."code"::character varying(3) end
 */
export function exactCast(value: string, type: string): string {
  // A value beyond the type's range fails the cast (an error, not NULL): such a value equals no parent,
  // so it is tested first (CASE, unlike AND, evaluates in order). Domains come as their base type
  // (closure-catalog.ts): a domain's check would fail the cast too.
  const range = integerRanges[type];
  if (range) return `case when ${value} between ${range} then ${value}::${type} end`;
  // bigint holds every integer child; text holds every string: no comparison per row for them.
  if (integerTypes.has(type) || type === 'text') return `${value}::${type}`;
  // Against real or double precision, as the foreign key compares: a float child through the cross-type
  // operator (in double precision: 0.1::float8 is no real), any other child cast to the parent's type first
  // (numeric 0.1 is real 0.1; compared in double it would not be). A value beyond the type's range (a NOT
  // VALID key) equals no parent: tested first, as its cast would fail.
  const floatMax = floatBounds[type];
  if (floatMax) {
    const cast = `${value}::${type}`;
    const inRange = `abs(${value}) <= ${floatMax} or (${value})::text in ('NaN', 'Infinity', '-Infinity')`;
    return `case when ${inRange} then case when pg_typeof(${value}) not in ('real'::regtype, 'double precision'::regtype) or ${cast} = ${value} then ${cast} end end`;
  }
  // Against character(n), as the foreign key compares, in bpchar: trailing blanks do not count ('ab ' is
  // the parent 'ab'). Compared as text they would, and the key would be dropped.
  const original = /^character\(\d+\)$/.test(type) ? `${value}::bpchar` : value;
  const exact = `case when ${value}::${type} = ${original} then ${value}::${type} end`;
  const bound = numericBound(type);
  return bound ? `case when abs(${value}) <= ${bound} or ${value} = 'NaN' then ${exact} end` : exact;
}

/** The largest finite value of each float type. */
const floatBounds: Record<string, string | undefined> = {
  real: '3.4028234663852886e38',
  'double precision': '1.7976931348623157e308',
};

/** Integer types narrower than bigint: the values they hold. */
const integerRanges: Record<string, string | undefined> = {
  smallint: '-32768 and 32767',
  integer: '-2147483648 and 2147483647',
};

/**
 * The largest value `numeric(p,s)` holds, `(10^p − 1)·10^−s` as a literal (numeric(6,2): 999999e-2, that
 * is 9999.99); a larger one fails the cast (NaN, which abs() leaves, fits: exactCast lets it through).
 * Other types: undefined.
 */
function numericBound(type: string): string | undefined {
  const match = /^numeric\((\d+),(-?\d+)\)$/.exec(type);
  return match ? `${'9'.repeat(Number(match[1]))}e${-Number(match[2])}` : undefined;
}

function selectList(
  table: ParsedTable,
  fks: readonly ClosureForeignKey[],
  lossyColumns: readonly LossyColumn[] = [],
): string {
  const prefix = lossyPrefix(table.alias, lossyColumns);
  const row = `(\n/* tables[${table.name}].rowSql */\n${table.rowSql}\n)::jsonb::text`;
  const first = prefix ? `${prefix} || ${row}` : row;
  return [first, ...keyColumns(table.alias, fks)].join(',\n  ');
}

export interface ClosureQueryOptions {
  graphSize?: number;
  /** The table's json/jsonb columns: rows holding a JSON null in one are marked (lossy-values-sql.ts). */
  lossyColumns?: readonly LossyColumn[];
  /**
   * buildClosureRowsQuery, a referenced unique key: the table's own rows are left out by the keys they
   * reported (never asked for), not by running its own `from`/`where` again.
   */
  ownRowsByKeys?: boolean;
  /** buildOwnRowsQuery: only the rows of one piece of the table (export/table-pieces.ts). */
  piece?: PieceRange | undefined;
}

/** The table's own rows (its `from`/`where`, as the plain export) with the key columns appended. */
export function buildOwnRowsQuery(
  manifest: ParsedManifest,
  table: ParsedTable,
  fks: readonly ClosureForeignKey[],
  options: ClosureQueryOptions = {},
): { text: string } {
  const label = `tables[${table.name}]`;
  const parts = [
    settingsCtes(manifest.subjectKeys, options.graphSize),
    `select ${selectList(table, fks, options.lossyColumns)}`,
    `from\n/* ${label}.from */\n${table.from}`,
  ];
  const where = whereClause(label, table.where, options.piece);
  if (where) parts.push(where);
  if (table.orderBy) parts.push(`order by\n/* ${label}.orderBy */\n${table.orderBy}`);
  return { text: parts.join('\n') };
}

/**
 * Rows of `table` whose `columns` equal one of the tuples in `replay.closure_keys`, none of the table's own
 * rows (those are in the capsule once, from the plain query): rows its own `from`/`where` selects are left
 * out by running it again (`not exists`) — as the key's type compares, where a child may spell a key
 * otherwise than the row (citext's case, numeric's scale). With `ownRowsByKeys` (a referenced unique key
 * of a table whose query selects other rows when run again: the clock, the connection), by the keys its
 * own rows reported as they streamed instead, which are never asked for (target-keys.ts); those compare
 * as text.
 *
 * `target.unique`: the columns are one column with a unique index (a referenced key): the keys go as one
 * array, `= any(array(…))`, which the index scan sorts and walks in order (no sort node, heap pages in
 * key order): 25–30 % less server CPU than the join at 50,000 keys a chunk (docs/performance.md). Other
 * keys (composite, or a reference table's foreign key, perhaps unindexed: an array scanned per row would
 * be quadratic) join the key relation. An integer column of a unique key reads its keys as a PostgreSQL
 * array literal instead of JSON (keysAsIntegerArray).
 *
 * @example
 * with params as (…), graph_keys as (…),
 * replay_closure_keys as (select (k.value->>0)::integer as "id"
 *   from jsonb_array_elements(current_setting('replay.closure_keys')::jsonb) as k)
 * select (to_jsonb(t))::jsonb::text, <key columns>
 * from "stores" as "t" cross join lateral (select "t"."id" as "id") as replay_closure_key
 * where not exists (select 1 from stores t where (t.region = 'eu') and ("t"."id") = (replay_closure_key."id"))
 * and "t"."id" = any(array(select "id" from replay_closure_keys))
 * order by "t"."id"
 *
 * With integer keys (keysAsIntegerArray), no replay_closure_keys relation:
 * where … and "t"."id" = any((select current_setting('replay.closure_keys'))::bigint[])
 */
export function buildClosureRowsQuery(
  manifest: ParsedManifest,
  table: ParsedTable,
  target: { columns: readonly string[]; types: readonly string[]; unique?: boolean },
  fks: readonly ClosureForeignKey[],
  options: ClosureQueryOptions = {},
): { text: string } {
  const a = quoteIdent(table.alias);
  const cols = target.columns.map(quoteIdent);
  const casts = cols.map((col, index) => `(k.value->>${index})::${target.types[index]} as ${col}`);
  // `= any(array(…))` of an array-typed key would compare the column with the arrays' elements.
  const byArray = target.unique === true && cols.length === 1 && !target.types[0]!.endsWith('[]');
  const integers = keysAsIntegerArray(target);
  // The scalar subquery keeps the planner from estimating `= any` over every key of the literal (5–16 ms
  // of planning per 10,000 keys, measured).
  const keys = integers
    ? `(select current_setting('${closureKeysSetting}'))::${target.types[0]}[]`
    : `array(select ${cols[0]} from replay_closure_keys)`;
  const ownRowsOut = !(options.ownRowsByKeys && target.unique === true);
  // The array form names the row's own key as replay_closure_key (the lateral select is pulled up), so
  // the own-rows test reads the same either way.
  const keyed = byArray
    ? [
        `from ${quoteTable(table.name)} as ${a}`,
        ...(ownRowsOut
          ? [
              `cross join lateral (select ${a}.${cols[0]} as ${cols[0]}) as ${keyAlias}`,
              ...notOwnRow(table, cols),
              `and ${a}.${cols[0]} = any(${keys})`,
            ]
          : [`where ${a}.${cols[0]} = any(${keys})`]),
      ]
    : [
        `from ${quoteTable(table.name)} as ${a}`,
        `join replay_closure_keys as ${keyAlias} on ${keyMatch(table, cols)}`,
        ...(ownRowsOut ? notOwnRow(table, cols) : []),
      ];
  const keyRelation = [
    `replay_closure_keys as (`,
    `  select ${casts.join(', ')}`,
    `  from jsonb_array_elements(current_setting('${closureKeysSetting}')::jsonb) as k`,
    `)`,
  ];
  return {
    text: [
      `${settingsCtes(manifest.subjectKeys, options.graphSize)}${integers ? '' : ','}`,
      ...(integers ? [] : keyRelation),
      `select ${selectList(table, fks, options.lossyColumns)}`,
      ...keyed,
      `order by ${cols.map((col) => `${a}.${col}`).join(', ')}`,
    ].join('\n'),
  };
}

/**
 * Rows of `table` whose `target` columns equal the foreign key of a row some `children` export, minus rows
 * the table's own `from`/`where` already exports — the whole closure of the target in one query, when
 * every table referencing it exports exactly its own query's rows (closure-direct.ts): the server joins
 * the children's queries to the table (as a hand-written `id in (select parent_id …)` would), no key
 * passes through the export. Child keys are cast to the referenced types; a NULL column matches nothing
 * (MATCH SIMPLE: no parent needed): `except` keeps such a key, and `in` finds no row for it.
 *
 * @example
 * with params as (…), graph_keys as (…),
 * replay_closure_keys as (
 *   select replay_closure_key.* from (
 *     select o."store_id"::integer as "id" from orders o join graph_keys g on … where …
 *   ) as replay_closure_key
 *   except
 *   select "t"."id" from stores t where (t.region = 'eu')
 * )
 * select (to_jsonb(t))::jsonb::text, <key columns>
 * from "stores" as "t" where ("t"."id") in (select "id" from replay_closure_keys)
 * order by "t"."id"
 */
export function buildClosureDirectQuery(
  manifest: ParsedManifest,
  table: ParsedTable,
  target: { columns: readonly string[]; types: readonly string[] },
  children: readonly DirectChild[],
  fks: readonly ClosureForeignKey[],
  options: ClosureQueryOptions = {},
): { text: string } {
  const a = quoteIdent(table.alias);
  const cols = target.columns.map(quoteIdent);
  const label = `tables[${table.name}]`;
  return {
    text: [
      `${settingsCtes(manifest.subjectKeys, options.graphSize)},`,
      `replay_closure_keys as (`,
      `select ${keyAlias}.* from (`,
      childKeySelects(target, children).join('\n    union all\n'),
      `) as ${keyAlias}`,
      // The own rows' keys taken away as a set (sorted: buildHashAggregateSetting). A `not exists` per key
      // probed the own query once per child row: 1.4-1.6 s against 0.6 s for 400,000 keys (performance.md).
      `except`,
      `select ${cols.map((col) => `${a}.${col}`).join(', ')} from`,
      `/* ${label}.from */\n${table.from}`,
      ...(table.where ? [`  where\n/* ${label}.where */\n${table.where}`] : []),
      `)`,
      `select ${selectList(table, fks, options.lossyColumns)}`,
      `from ${quoteTable(table.name)} as ${a}`,
      `where (${cols.map((col) => `${a}.${col}`).join(', ')}) in (select ${cols.join(', ')} from replay_closure_keys)`,
      `order by ${cols.map((col) => `${a}.${col}`).join(', ')}`,
    ].join('\n'),
  };
}

/** A child whose own query a direct closure query joins (closure-direct.ts). */
export interface DirectChild {
  table: ParsedTable;
  fk: ClosureForeignKey;
  /** Closure adds rows to the child, by one query joining these children of its (`through`). */
  through?: { target: { columns: readonly string[]; types: readonly string[] }; children: DirectChild[] };
}

/**
 * One `select` per child of the keys it references in `target`, named as target's columns: from the
 * child's own query, and for a child closure completes (`through`), from the rows that query adds — the
 * child's rows its own children reference (its own rows among them: the key set is taken as a set).
 */
function childKeySelects(
  target: { columns: readonly string[]; types: readonly string[] },
  children: readonly DirectChild[],
): string[] {
  const cols = target.columns.map(quoteIdent);
  return children.flatMap(({ table: child, fk, through }) => {
    const c = quoteIdent(child.alias);
    // In the parent's collation: a child column of another one could not be compared with it.
    const picks = fk.columns.map((col, index) => {
      const collation = fk.referencedCollations?.[index];
      const key = exactCast(`${c}.${quoteIdent(col)}`, target.types[index]!);
      return `${key}${collation ? ` collate ${collation}` : ''} as ${cols[index]}`;
    });
    const childLabel = `tables[${child.name}]`;
    const where = child.where ? [`    where\n/* ${childLabel}.where */\n${child.where}`] : [];
    const own = [`    select ${picks.join(', ')} from`, `/* ${childLabel}.from */\n${child.from}`, ...where];
    if (!through) return [own.join('\n')];
    const inner = through.target.columns.map(quoteIdent);
    const added = [
      `    select ${picks.join(', ')} from ${quoteTable(child.name)} as ${c}`,
      `    where (${inner.map((col) => `${c}.${col}`).join(', ')}) in (`,
      `    select ${inner.join(', ')} from (`,
      childKeySelects(through.target, through.children).join('\n    union all\n'),
      `    ) as ${keyAlias}`,
      `    )`,
    ];
    return [own.join('\n'), added.join('\n')];
  });
}

/** `(t.a, t.b) = (replay_closure_key.a, replay_closure_key.b)`: the table's row has the key. */
function keyMatch(table: ParsedTable, cols: readonly string[]): string {
  const a = quoteIdent(table.alias);
  return `(${cols.map((col) => `${a}.${col}`).join(', ')}) = (${cols.map((col) => `${keyAlias}.${col}`).join(', ')})`;
}

/** No row of the table's own `from`/`where` has the key: those rows are in the capsule once, from the own query. */
function notOwnRow(table: ParsedTable, cols: readonly string[]): string[] {
  const label = `tables[${table.name}]`;
  const ownWhere = table.where ? [`(\n/* ${label}.where */\n${table.where}\n)`] : [];
  return [
    `where not exists (`,
    `  select 1 from`,
    `/* ${label}.from */\n${table.from}`,
    `  where ${[...ownWhere, keyMatch(table, cols)].join(' and ')}`,
    `)`,
  ];
}

/**
 * The keys of `target` travel as a PostgreSQL array literal of integers (`{7,-2,42}`) rather than JSON
 * tuples: one integer column of a unique key (keyColumns spells each such key `[7]` or `[-7]`). The
 * server parses that literal in a fraction of the time `jsonb_array_elements` and a cast per key take:
 * 50 chunks of 10,000 keys, 0.30–0.43 s of backend CPU against 0.72–1.03 s for the ids alone
 * (`bench/closure-chunks-cpu.js`, docs/performance.md, ninth session).
 */
export function keysAsIntegerArray(target: {
  columns: readonly string[];
  types: readonly string[];
  unique?: boolean;
}): boolean {
  return target.unique === true && target.columns.length === 1 && integerTypes.has(target.types[0]!);
}

/**
 * Hands one chunk of key tuples to the next closure query: a JSON array of jsonb array texts
 * (`[[1],["a", 2]]`), or for `integers` (keysAsIntegerArray) an integer array literal (`{1,2}`), as the
 * text's UTF-8 bytes (a Buffer parameter: pg sends it in binary format, which for text is those bytes;
 * the server checks their encoding as it does a text parameter's). The
 * statement returns a boolean, not set_config's value: that is the whole setting (~70 KB per 10,000
 * integer keys), sent back and made into a string per chunk for nothing.
 */
export function buildClosureKeysSetting(
  keys: { json(): Buffer; integerArray(): Buffer },
  integers = false,
): SqlStatement {
  return {
    text: `select set_config('${closureKeysSetting}', $1, true) is null`,
    values: [integers ? keys.integerArray() : keys.json()],
  };
}

/**
 * enable_hashagg around a direct closure query (buildClosureDirectQuery): `off` so its `except` sorts.
 * A hashed set operation never spills to disk (PostgreSQL ≤ 17 spills hash aggregation only), and the
 * planner picks it from the estimated key count — an estimate the subject's skew can miss by 30× — so a
 * misestimate would take the source server's memory; a sort spills. Sorted was also the faster of the two
 * on the realistic workload (docs/performance.md). Restored to the value read before (`was`).
 */
export function buildHashAggregateSetting(value: string): SqlStatement {
  return { text: "select set_config('enable_hashagg', $1, true) is null", values: [value] };
}

/** The session's enable_hashagg, read before the direct closure query changes it. */
export const readHashAggregateSetting = "select current_setting('enable_hashagg') as value";

/** A constraint name is the source's text: it must not end (or, nested, open) the label's comment. */
function commentText(name: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this removes
  return name.replace(/\*\/|\/\*|[\u0000-\u001f]/g, '_');
}
