import type pg from 'pg';

import type { LossyColumn } from '../graph/lossy-values-sql.js';
import type { DatabaseUrl } from '../postgres/database-url.js';
import { toDatabaseError } from '../postgres/errors.js';

/**
 * The columns of each manifest table whose values the capsule may not hold exactly
 * (graph/lossy-values-sql.ts), by manifest name, in column order: json and jsonb, and arrays of any type.
 * A domain counts as its base type, an array of a domain as an array of the domain's base type; vector
 * types that are not arrays (int2vector, oidvector: not their element's array type) are left out. Tables
 * the database does not have are left out too (the export fails on them with its own message).
 */
export async function readLossyColumns(
  client: pg.Client,
  url: DatabaseUrl,
  tables: readonly { name: string }[],
): Promise<Map<string, LossyColumn[]>> {
  const sql = `with recursive wanted as (
  select n as name, to_regclass(n) as oid from unnest($1::text[]) as n where to_regclass(n) is not null
), resolved as (
  select w.name, a.attname::text as "column", a.attnum, a.atttypid as type, false as element, 0 as depth
    from wanted w join pg_attribute a on a.attrelid = w.oid and a.attnum > 0 and not a.attisdropped
  union all
  select r.name, r."column", r.attnum,
         case when t.typtype = 'd' then t.typbasetype else t.typelem end,
         r.element or t.typtype <> 'd', r.depth + 1
    from resolved r join pg_type t on t.oid = r.type
   where t.typtype = 'd'
      or (not r.element and t.typcategory = 'A' and t.typelem <> 0
          and (select e.typarray from pg_type e where e.oid = t.typelem) = t.oid)
), resolved_last as (
  select distinct on (name, attnum) * from resolved order by name, attnum, depth desc
)
select name, "column" as name_of_column,
       case when type in ('json'::regtype, 'jsonb'::regtype)
            then format_type(type, null) || case when element then '[]' else '' end
            else 'array' end as type
  from resolved_last
 where element or type in ('json'::regtype, 'jsonb'::regtype)
 order by name, attnum`;
  let rows: Array<{ name: string; name_of_column: string; type: LossyColumn['type'] }>;
  try {
    rows = (await client.query<(typeof rows)[number]>(sql, [tables.map((table) => table.name)])).rows;
  } catch (error) {
    throw toDatabaseError(error, { url, sql, action: 'export: column types' });
  }
  const byTable = new Map<string, LossyColumn[]>();
  for (const row of rows) {
    const list = byTable.get(row.name) ?? [];
    list.push({ name: row.name_of_column, type: row.type });
    byTable.set(row.name, list);
  }
  return byTable;
}
