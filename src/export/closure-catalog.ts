import type pg from 'pg';

import { ManifestError } from '../errors.js';
import type { ClosureForeignKey } from '../graph/closure-sql.js';
import type { ParsedTable } from '../manifest/index.js';
import type { DatabaseUrl } from '../postgres/database-url.js';
import { toDatabaseError } from '../postgres/errors.js';

/**
 * Foreign keys between manifest tables, by manifest name, for parent closure. A foreign key declared on
 * (or pointing at) a partitioned table is read once, on the partitioned parent (`conparentid = 0` drops the
 * per-partition clones); partitions resolve to their root with pg_partition_root, so a manifest that
 * names the partitioned table sees the foreign keys of all its partitions.
 */
export async function readClosureForeignKeys(
  client: pg.Client,
  url: DatabaseUrl,
  tables: readonly string[],
): Promise<ClosureForeignKey[]> {
  // Keys declared per partition (older dumps) are one key once resolved to the root: keep one.
  const sql = `select distinct on (child, parent, columns, "referencedColumns") * from (
with wanted as (
  select n as name, to_regclass(n) as oid from unnest($1::text[]) as n where to_regclass(n) is not null
)
select con.conname::text as name, cw.name as child, pw.name as parent,
       (select array_agg(a.attname::text order by k.ord) from unnest(con.conkey) with ordinality k(attnum, ord)
          join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum) as columns,
       (select array_agg(a.attname::text order by k.ord) from unnest(con.confkey) with ordinality k(attnum, ord)
          join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.attnum) as "referencedColumns",
       -- A domain as its base type: a child value its check refuses would fail the cast (it matches no
       -- parent either way), and the base type spells a key as the domain does.
       (select array_agg((with recursive d(oid, typmod, depth) as (
                            select a.atttypid, a.atttypmod, 0
                            union all
                            select t.typbasetype, t.typtypmod, d.depth + 1
                              from d join pg_type t on t.oid = d.oid where t.typtype = 'd')
                          select format_type(d.oid, d.typmod) from d order by depth desc limit 1)
                         order by k.ord)
          from unnest(con.confkey) with ordinality k(attnum, ord)
          join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.attnum) as "referencedTypes",
       -- The referenced column's collation, qualified (null: not collatable): a child column may have
       -- another one, and comparing the two without saying which is an error ("collation mismatch").
       (select array_agg((select quote_ident(n.nspname) || '.' || quote_ident(c.collname)
                            from pg_collation c join pg_namespace n on n.oid = c.collnamespace
                           where c.oid = a.attcollation) order by k.ord)
          from unnest(con.confkey) with ordinality k(attnum, ord)
          join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.attnum) as "referencedCollations"
  from pg_constraint con
  join wanted cw on cw.oid = coalesce(pg_partition_root(con.conrelid), con.conrelid)
  join wanted pw on pw.oid = coalesce(pg_partition_root(con.confrelid), con.confrelid)
 where con.contype = 'f' and con.conparentid = 0
) as fk
 order by child, parent, columns, "referencedColumns", name`;
  try {
    return (await client.query<ClosureForeignKey>(sql, [tables])).rows;
  } catch (error) {
    throw toDatabaseError(error, { url, sql, action: 'export: closure foreign keys' });
  }
}

/**
 * Manifest tables with a foreign-key path (child → parent, through any table of the database, partitions
 * resolved to their root) to `subjectTable`, the subject table included: the tables that belong to
 * subjects, which `closure: parents-and-reference` never follows into.
 */
export async function readSubjectPathTables(
  client: pg.Client,
  url: DatabaseUrl,
  tables: readonly string[],
  subjectTable: string,
): Promise<Set<string>> {
  const sql = `with recursive edges as (
  select distinct coalesce(pg_partition_root(conrelid), conrelid) as child,
         coalesce(pg_partition_root(confrelid), confrelid) as parent
    from pg_constraint where contype = 'f'
), reach(oid) as (
  select to_regclass($2)::oid
  union
  select e.child from edges e join reach r on e.parent = r.oid
)
select n as name from unnest($1::text[]) as n where to_regclass(n)::oid in (select oid from reach)
union all
select null where to_regclass($2) is null`;
  let rows: Array<{ name: string | null }>;
  try {
    rows = (await client.query<{ name: string | null }>(sql, [tables, subjectTable])).rows;
  } catch (error) {
    throw toDatabaseError(error, { url, sql, action: 'export: closure subject tables' });
  }
  // Without the subject table nothing would be known to belong to subjects: refuse rather than follow.
  if (rows.some((row) => row.name === null))
    throw new ManifestError(`postgres.subjectTable: no table "${subjectTable}" in the source database`);
  return new Set(rows.map((row) => row.name!));
}

/**
 * Stable functions of pg_catalog a snippet may call and still select the same rows when run again, in
 * another statement or on the export's other connection: they depend on the query's values and the
 * session's settings only (the two connections have the same), never on the clock or the connection.
 */
const repeatableStableFunctions = [
  'to_char',
  'to_date',
  'to_timestamp',
  'to_number',
  'format',
  'concat',
  'concat_ws',
  'date_trunc',
  'date_part',
  'extract',
  'array_to_string',
  'to_regclass',
  'to_regtype',
  'lower',
  'upper',
  // Building JSON (stable as a timestamp's text follows the session's settings, which the export's
  // connections share): rowSql's functions, read too when a table is cut in pieces (table-pieces.ts).
  'to_jsonb',
  'to_json',
  'jsonb_build_object',
  'json_build_object',
  'jsonb_build_array',
  'json_build_array',
  'row_to_json',
  'array_to_json',
  'jsonb_agg',
  'json_agg',
  'json_object_agg',
];

/**
 * SQL: whether the snippet (`t.snippet`) holds the catalog name in column `name` as a word (any case),
 * followed by what the regular expression `after` matches; strpos first, as most names are not there.
 */
function named(name: string, after: string): string {
  return `strpos(lower(t.snippet), lower(${name})) > 0
                  and t.snippet ~* ('\\m' || regexp_replace(${name}, '(\\W)', '\\\\\\1', 'g') || '${after}')`;
}

/**
 * Manifest tables whose query may select other rows each time it runs, or fewer than its `from`/`where`:
 * their `from`, `where` or `orderBy` — and, with `rowSql` (a table cut in pieces: table-pieces.ts),
 * their `rowSql`, which could give each piece's rows other values (also read with comments taken out)
 * - call a volatile function (random(), clock_timestamp(), nextval(), one of the schema's…), a stable
 *   function of the schema, or one of pg_catalog's other than repeatableStableFunctions — those read
 *   the clock (now(), statement_timestamp(), age()…) or the connection (pg_backend_pid(),
 *   current_setting(), inet_client_port()…): each of the export's two connections has its own
 *   transaction start and backend, each statement its own time, and closure runs a snippet again in
 *   another statement, maybe on the other connection;
 * - read the clock otherwise: current_timestamp, current_date, localtimestamp…, a `'now'`/`'today 12:00'`…
 *   literal, a cast of anything but a literal to a date or time type or a domain over one
 *   (`('no' || 'w')::pg_catalog.timestamptz` is now), or a literal spelled so these tests cannot read it
 *   (`$$…$$`, `E'…'`, `U&'…'`, `'no' 'w'` over two lines);
 * - use an operator of the schema whose function is not immutable, or name a view (it may do any of
 *   this inside), a sequence (read outside the snapshot: `last_value` moves) or a foreign table (read
 *   outside it too);
 * - sample (`tablesample`) or cut (`limit`, `offset`, `fetch`).
 * Matched on the text (case-insensitive; a function's name followed by `(`, against pg_proc), so a false
 * match only costs the one-query closure path (closure-direct.ts), never a row. Not seen: a function
 * declared immutable that is not, and what a function or operator of pg_catalog reaches through its
 * arguments' types.
 */
export async function readUnrepeatableTables(
  client: pg.Client,
  url: DatabaseUrl,
  tables: readonly ParsedTable[],
  options: { rowSql?: boolean } = {},
): Promise<Set<string>> {
  const sql = `select s.name from unnest($1::text[], $2::text[]) as s(name, raw)
 cross join lateral (select s.raw || chr(10) || regexp_replace(s.raw, '/\\*.*?\\*/|--[^\\n]*', ' ', 'g') as snippet) as t
 where t.snippet ~* '\\m(tablesample|limit|offset|fetch)\\M'
    or t.snippet ~* '\\m(current_timestamp|current_date|current_time|localtime|localtimestamp)\\M'
    or t.snippet ~* '''\\s*(now|today|tomorrow|yesterday)\\M[^'']*'''
    or t.snippet ~* '(^|[^''\\s])\\s*::\\s*("?pg_catalog"?\\s*\\.\\s*)?"?(timestamptz|timestamp|date|time|timetz)\\M'
    or t.snippet ~* '\\m(timestamptz|timestamp|date|time|timetz)"?\\s*\\('
    or t.snippet ~* '\\mcast\\s*\\(.*\\mas\\s+("?pg_catalog"?\\s*\\.\\s*)?"?(timestamptz|timestamp|date|time|timetz)\\M'
    or exists (select from pg_type ty
                where ty.typtype = 'd'
                  and ty.typbasetype = any ('{timestamptz,timestamp,date,time,timetz}'::regtype[])
                  and ${named('ty.typname', '\\M')})
    or t.snippet ~ '\\$[A-Za-z_0-9]*\\$'
    or t.snippet ~* '(^|[^a-z0-9_$])(e|u&)'''
    or t.snippet ~ '''[ \\t]*\\n\\s*'''
    or exists (select from pg_proc p
                where (p.provolatile = 'v'
                       or p.provolatile = 's' and (p.pronamespace <> 'pg_catalog'::regnamespace
                                                   or p.proname <> all ($3::text[])))
                  and ${named('p.proname', '"?\\s*\\(')})
    or exists (select from pg_operator o join pg_proc p on p.oid = o.oprcode
                where p.provolatile <> 'i' and o.oprnamespace <> 'pg_catalog'::regnamespace
                  and strpos(t.snippet, o.oprname) > 0)
    or exists (select from pg_class c
                where c.relkind in ('v', 'S', 'f') and c.relnamespace <> 'information_schema'::regnamespace
                  and ${named('c.relname', '\\M')})`;
  const names = tables.map((table) => table.name);
  const snippets = tables.map((table) =>
    [table.from, table.where ?? '', table.orderBy ?? '', options.rowSql ? table.rowSql : ''].join('\n'),
  );
  try {
    return new Set(
      (await client.query<{ name: string }>(sql, [names, snippets, repeatableStableFunctions])).rows.map(
        (row) => row.name,
      ),
    );
  } catch (error) {
    throw toDatabaseError(error, { url, sql, action: 'export: closure snippets' });
  }
}
