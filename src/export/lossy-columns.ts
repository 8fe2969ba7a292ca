import type pg from 'pg';

import { buildLossyProbe } from '../graph/export-sql.js';
import type { LossyColumn } from '../graph/lossy-values-sql.js';
import type { ParsedManifest, ParsedTable } from '../manifest/index.js';
import type { DatabaseUrl } from '../postgres/database-url.js';
import { toDatabaseError } from '../postgres/errors.js';
import { extendedQuery } from '../postgres/one-statement.js';

/**
 * The columns of each manifest table whose values the capsule may not hold exactly
 * (graph/lossy-values-sql.ts), by manifest name, in column order: json and jsonb, and arrays of any type.
 * A domain counts as its base type, an array of a domain as an array of the domain's base type; vector
 * types that are not arrays (int2vector, oidvector: not their element's array type) are left out. Tables
 * the database does not have are left out too (the export fails on them with its own message).
 */
async function readLossyColumns(
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

/**
 * The lossy columns the export can test (readLossyColumns), and the tables it cannot: those whose `from`
 * does not name the table by `alias` (the tests read `<alias>.<column>`; the original tool's manifests
 * may write `orders o` with no `alias`). The tables with such columns are probed (buildLossyProbe: one
 * statement for all, no row read, under a savepoint; one by one only when it fails); a table whose probe
 * fails is exported without the tests, and named in `untested` when its statement without them works
 * (a snippet that fails either way is reported by the export's own query, with its label, as before).
 */
export async function resolveLossyColumns(
  client: pg.Client,
  url: DatabaseUrl,
  manifest: ParsedManifest,
): Promise<{ columns: Map<string, LossyColumn[]>; untested: string[] }> {
  const columns = await readLossyColumns(client, url, manifest.postgres.tables);
  const untested: string[] = [];
  const probe = (tables: readonly ParsedTable[], tests: boolean) =>
    fails(
      client,
      url,
      buildLossyProbe(
        manifest,
        tables.map((table) => ({ table, columns: columns.get(table.name)! })),
        tests,
      ),
    );
  const tested = manifest.postgres.tables.filter((table) => columns.has(table.name));
  if (tested.length === 0 || !(await probe(tested, true))) return { columns, untested };
  for (const table of tested) {
    if (!(await probe([table], true))) continue;
    // Without the tests: the table's own query then reports a snippet that fails on its own.
    columns.delete(table.name);
    if (!(await probe([table], false))) untested.push(table.name);
  }
  return { columns, untested };
}

/** Whether `sql` fails, run under a savepoint (a failure must not end the read-only transaction). */
async function fails(client: pg.Client, url: DatabaseUrl, sql: string): Promise<boolean> {
  await savepoint(client, url, 'savepoint replay_lossy_probe');
  try {
    await client.query(extendedQuery(sql));
    await savepoint(client, url, 'release savepoint replay_lossy_probe');
    return false;
  } catch {
    await savepoint(client, url, 'rollback to savepoint replay_lossy_probe');
    return true;
  }
}

async function savepoint(client: pg.Client, url: DatabaseUrl, statement: string): Promise<void> {
  try {
    await client.query(statement);
  } catch (error) {
    throw toDatabaseError(error, { url, action: 'export: column types' });
  }
}
