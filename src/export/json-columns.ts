import type pg from 'pg';

import type { JsonColumn } from '../graph/json-null-sql.js';
import type { DatabaseUrl } from '../postgres/database-url.js';
import { toDatabaseError } from '../postgres/errors.js';

/**
 * The json and jsonb columns (and arrays of them) of each manifest table, by manifest name, in column
 * order: a domain counts as its base type, an array of a domain as an array of the domain's base type.
 * Tables the database does not have are left out (the export fails on them with its own message).
 */
export async function readJsonColumns(
  client: pg.Client,
  url: DatabaseUrl,
  tables: readonly { name: string }[],
): Promise<Map<string, JsonColumn[]>> {
  const sql = `with recursive wanted as (
  select n as name, to_regclass(n) as oid from unnest($1::text[]) as n where to_regclass(n) is not null
), columns as (
  select w.name, a.attname::text as "column", a.attnum, a.atttypid as type, false as element
    from wanted w join pg_attribute a on a.attrelid = w.oid and a.attnum > 0 and not a.attisdropped
), resolved as (
  select * from columns
  union all
  select r.name, r."column", r.attnum,
         case when t.typtype = 'd' then t.typbasetype else t.typelem end,
         r.element or t.typtype <> 'd'
    from resolved r join pg_type t on t.oid = r.type
   where t.typtype = 'd' or (not r.element and t.typcategory = 'A' and t.typelem <> 0)
)
select name, "column" as name_of_column,
       case type when 'json'::regtype then 'json' else 'jsonb' end || case when element then '[]' else '' end as type
  from resolved
 where type in ('json'::regtype, 'jsonb'::regtype)
 order by name, attnum`;
  let rows: Array<{ name: string; name_of_column: string; type: JsonColumn['type'] }>;
  try {
    rows = (await client.query<(typeof rows)[number]>(sql, [tables.map((table) => table.name)])).rows;
  } catch (error) {
    throw toDatabaseError(error, { url, sql, action: 'export: json columns' });
  }
  const byTable = new Map<string, JsonColumn[]>();
  for (const row of rows) {
    const list = byTable.get(row.name) ?? [];
    list.push({ name: row.name_of_column, type: row.type });
    byTable.set(row.name, list);
  }
  return byTable;
}
