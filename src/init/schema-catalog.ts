import type pg from 'pg';

import type { DatabaseUrl } from '../postgres/database-url.js';
import { toDatabaseError } from '../postgres/errors.js';

export interface InitColumn {
  name: string;
  /** format_type() text. */
  type: string;
}

export interface InitTable {
  /** Name as the manifest will write it: bare in the chosen schema. */
  name: string;
  columns: InitColumn[];
  primaryKey: string[];
  partitioned: boolean;
}

export interface InitForeignKey {
  name: string;
  child: string;
  parent: string;
  columns: string[];
  referencedColumns: string[];
  deferrable: boolean;
}

export interface InitCatalog {
  database: string;
  tables: InitTable[];
  foreignKeys: InitForeignKey[];
}

/**
 * Ordinary and partitioned tables of one schema (partitions themselves are left out: the manifest names
 * the partitioned table), with columns, primary keys and the foreign keys between them. Foreign keys are
 * read once on the partitioned parent (`conparentid = 0`) with both ends resolved to the partition root.
 */
export async function readInitCatalog(
  client: pg.Client,
  url: DatabaseUrl,
  schema: string,
): Promise<InitCatalog> {
  const tablesSql = `select c.relname::text as name, c.relkind = 'p' as partitioned,
       (select json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod))
                        order by a.attnum)
          from pg_attribute a where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped) as columns,
       coalesce((select array_agg(a.attname::text order by k.ord) from pg_constraint pk
          cross join lateral unnest(pk.conkey) with ordinality as k(attnum, ord)
          join pg_attribute a on a.attrelid = pk.conrelid and a.attnum = k.attnum
         where pk.conrelid = c.oid and pk.contype = 'p'), '{}') as "primaryKey"
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = $1 and c.relkind in ('r', 'p') and not c.relispartition
 order by c.relname`;
  // Older dumps (Pagila 3) declare a partitioned table's foreign keys on each partition instead: resolved
  // to the root they are the same key several times, so keep one per (child, parent, columns).
  const fkSql = `select distinct on (child, parent, columns, "referencedColumns") * from (
select con.conname::text as name, cc.relname::text as child, pc.relname::text as parent,
       con.condeferrable as deferrable,
       (select array_agg(a.attname::text order by k.ord) from unnest(con.conkey) with ordinality k(attnum, ord)
          join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum) as columns,
       (select array_agg(a.attname::text order by k.ord) from unnest(con.confkey) with ordinality k(attnum, ord)
          join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.attnum) as "referencedColumns"
  from pg_constraint con
  join pg_class cc on cc.oid = coalesce(pg_partition_root(con.conrelid), con.conrelid)
  join pg_class pc on pc.oid = coalesce(pg_partition_root(con.confrelid), con.confrelid)
  join pg_namespace cn on cn.oid = cc.relnamespace
  join pg_namespace pn on pn.oid = pc.relnamespace
 where con.contype = 'f' and con.conparentid = 0 and cn.nspname = $1 and pn.nspname = $1
) as fk
 order by child, parent, columns, "referencedColumns", name`;
  try {
    const database = (await client.query<{ db: string }>('select current_database() as db')).rows[0]!.db;
    const tables = (await client.query<InitTable>(tablesSql, [schema])).rows;
    const foreignKeys = (await client.query<InitForeignKey>(fkSql, [schema])).rows;
    return { database, tables, foreignKeys };
  } catch (error) {
    throw toDatabaseError(error, { url, action: 'init: read catalog' });
  }
}
