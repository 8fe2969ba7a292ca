import type pg from 'pg';

/** One column of a table in the replay (or source) database. */
export interface ColumnInfo {
  name: string;
  /** format_type() text, e.g. `text[]`, `numeric(10,2)`, `timestamp with time zone`. */
  type: string;
  notNull: boolean;
  hasDefault: boolean;
  /** `GENERATED ALWAYS AS (…) STORED`: never inserted. */
  generated: boolean;
  /** `a` = GENERATED ALWAYS AS IDENTITY (insert needs OVERRIDING SYSTEM VALUE), `d` = BY DEFAULT, '' = none. */
  identity: '' | 'a' | 'd';
}

export interface ForeignKeyInfo {
  name: string;
  /** Referencing table (schema-qualified as `schema.table` unless in the search path's first schema). */
  table: string;
  columns: string[];
  referencedTable: string;
  referencedColumns: string[];
  /** DEFERRABLE: checked at commit when deferred (materialize defers all), so load order does not matter. */
  deferrable?: boolean;
}

export interface TableInfo {
  /** The name as the manifest wrote it. */
  name: string;
  /** `regclass` text of the resolved table, e.g. `orders` or `billing.invoices`. */
  regclass: string;
  columns: ColumnInfo[];
  primaryKey: string[];
}

/**
 * Reads columns and primary keys of the given tables (names as written in the manifest, resolved with
 * the connection's search_path). Tables that do not exist are absent from the result map.
 */
export async function readTables(
  client: pg.Client,
  names: readonly string[],
): Promise<Map<string, TableInfo>> {
  const { rows } = await client.query<{
    name: string;
    regclass: string;
    columns: ColumnInfo[];
    primary_key: string[] | null;
  }>(
    `select n.name,
            c.oid::regclass::text as regclass,
            (select json_agg(json_build_object(
                       'name', a.attname,
                       'type', format_type(a.atttypid, a.atttypmod),
                       'notNull', a.attnotnull,
                       'hasDefault', a.atthasdef,
                       'generated', a.attgenerated <> '',
                       'identity', a.attidentity::text) order by a.attnum)
               from pg_attribute a
              where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped) as columns,
            (select array_agg(a.attname::text order by k.ord)
               from pg_constraint pk
               cross join lateral unnest(pk.conkey) with ordinality as k(attnum, ord)
               join pg_attribute a on a.attrelid = pk.conrelid and a.attnum = k.attnum
              where pk.conrelid = c.oid and pk.contype = 'p') as primary_key
       from unnest($1::text[]) as n(name)
       join pg_class c on c.oid = to_regclass(n.name)
      where c.relkind in ('r', 'p')`,
    [names],
  );
  return new Map(
    rows.map((row) => [
      row.name,
      {
        name: row.name,
        regclass: row.regclass,
        columns: row.columns ?? [],
        primaryKey: row.primary_key ?? [],
      },
    ]),
  );
}

/**
 * Foreign keys whose referencing or referenced table is one of `names` (as written in the manifest). A
 * foreign key on or to a partitioned table is read once, as declared on the partitioned table
 * (`conparentid = 0` drops the per-partition clones Postgres adds), with both ends named by the partition
 * root — so a manifest naming the partitioned table sees it, and no check runs per partition.
 */
export async function readForeignKeys(
  client: pg.Client,
  names: readonly string[],
): Promise<ForeignKeyInfo[]> {
  const { rows } = await client.query<ForeignKeyInfo>(
    `with wanted as (select to_regclass(n) as oid from unnest($1::text[]) as n where to_regclass(n) is not null),
     fk as (select con.*, coalesce(pg_partition_root(con.conrelid), con.conrelid) as child,
                   coalesce(pg_partition_root(con.confrelid), con.confrelid) as parent
              from pg_constraint con where con.contype = 'f' and con.conparentid = 0)
     select distinct on (2, 4, 3, 5) fk.conname as name,
            fk.child::regclass::text as table,
            (select array_agg(a.attname::text order by k.ord) from unnest(fk.conkey) with ordinality k(attnum, ord)
               join pg_attribute a on a.attrelid = fk.conrelid and a.attnum = k.attnum) as columns,
            fk.parent::regclass::text as "referencedTable",
            (select array_agg(a.attname::text order by k.ord) from unnest(fk.confkey) with ordinality k(attnum, ord)
               join pg_attribute a on a.attrelid = fk.confrelid and a.attnum = k.attnum) as "referencedColumns",
            fk.condeferrable as deferrable
       from fk
      where fk.child in (select oid from wanted) or fk.parent in (select oid from wanted)
      -- a key declared on each partition (older dumps) is one key on the root: reported once
      order by 2, 4, 3, 5, 1`,
    [names],
  );
  return rows;
}
