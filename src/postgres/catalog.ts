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
 * Foreign keys whose referencing or referenced table is one of `names` (as written in the manifest).
 * Partitions are reported as their partitioned root (issue #14 item 5): a key declared on a partitioned
 * table is cloned onto every partition (and, when it references one, onto every referenced partition);
 * the clones (`conparentid` set) are left out, and a key declared on a partition itself is reported
 * against the partition's root, which is the table a manifest names.
 */
export async function readForeignKeys(
  client: pg.Client,
  names: readonly string[],
): Promise<ForeignKeyInfo[]> {
  const { rows } = await client.query<ForeignKeyInfo>(
    `with wanted as (select to_regclass(n) as oid from unnest($1::text[]) as n where to_regclass(n) is not null),
     keys as (
       select con.*, coalesce(pg_partition_root(con.conrelid), con.conrelid) as root,
              coalesce(pg_partition_root(con.confrelid), con.confrelid) as froot
         from pg_constraint con
        where con.contype = 'f' and con.conparentid = 0)
     select con.conname as name,
            con.root::regclass::text as table,
            (select array_agg(a.attname::text order by k.ord) from unnest(con.conkey) with ordinality k(attnum, ord)
               join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum) as columns,
            con.froot::regclass::text as "referencedTable",
            (select array_agg(a.attname::text order by k.ord) from unnest(con.confkey) with ordinality k(attnum, ord)
               join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.attnum) as "referencedColumns"
       from keys con
      where con.root in (select oid from wanted) or con.froot in (select oid from wanted)
      order by 2, 1`,
    [names],
  );
  return rows;
}
