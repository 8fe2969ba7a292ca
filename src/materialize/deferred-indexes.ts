import type pg from 'pg';

import type { Sql } from './sql.js';
import { inSavepoint } from './table-lock.js';

/**
 * Deferred secondary-index builds (issue #16), as pg_restore does them: a table copied straight into
 * (load-direct.ts) that held no rows before the load gets its plain secondary indexes dropped inside the
 * load's transaction, is copied into, and gets each index created again from its own definition
 * (`pg_get_indexdef`), still in that transaction: one sorted build per index instead of one insertion per
 * row and index. A rollback (a bad row, a lost connection, the CLI killed) restores the dropped indexes
 * with everything else.
 *
 * Only indexes that a `create index` of their definition restores exactly are deferred: not unique, not
 * backing a constraint (primary key, unique, exclusion: foreign keys need those) nor referred to by any
 * other object, not part of a partitioned index, not the replica identity, not clustered, valid and
 * ready, in the database's default tablespace, without a comment or security label, without a
 * per-column statistics target, not an extension's member nor marked as depending on one, on a table
 * the role may alter whose ACCESS EXCLUSIVE lock (the one `drop index` takes) the load gets without
 * waiting: when another session holds the table (an open transaction that read it) the drop would wait
 * until it ends, where a COPY does not, so the indexes stay. Any other index stays in place and is
 * maintained row by row, as before. What a rebuild does change: the index's
 * oid (and so its cumulative usage statistics) and the statistics ANALYZE keeps for an expression index.
 */
export interface DeferredIndex {
  /** The manifest table. */
  table: string;
  /** The index, as regclass text (schema-qualified when not on the search_path, quoted as needed). */
  index: string;
  /** `pg_get_indexdef`: the `CREATE INDEX … ON schema.table USING …` that restores it. */
  definition: string;
  /** The table as `regclass` text (quoted, schema-qualified when needed), for the lock. */
  tableName: string;
}

/**
 * The secondary indexes of `table` that can be dropped for the load and restored exactly.
 *
 * @example
 * select $1::text as "table", i.indexrelid::regclass::text as index, pg_get_indexdef(i.indexrelid) as definition
 *   from pg_index i join pg_class ic … where i.indrelid = to_regclass($1) and not i.indisunique and …
 */
export function deferrableIndexesSql(table: string): Sql {
  return {
    text: [
      `/* tables[${table}] indexes */ select $1::text as "table", i.indexrelid::regclass::text as index,`,
      `       pg_get_indexdef(i.indexrelid) as definition, i.indrelid::regclass::text as "tableName"`,
      `  from pg_index i`,
      `  join pg_class ic on ic.oid = i.indexrelid`,
      `  join pg_class tc on tc.oid = i.indrelid`,
      ` where i.indrelid = to_regclass($1)`,
      `   -- a plain table and a plain index: partitioned tables and indexes attach to each other`,
      `   and tc.relkind = 'r' and ic.relkind = 'i'`,
      `   and not i.indisunique and not i.indisprimary and not i.indisexclusion`,
      `   and i.indisvalid and i.indisready and i.indislive`,
      `   and not i.indisreplident and not i.indisclustered`,
      `   and ic.reltablespace = 0`,
      `   and pg_has_role(current_user, tc.relowner, 'USAGE')`,
      `   and obj_description(i.indexrelid, 'pg_class') is null`,
      `   and not exists (select from pg_constraint c where c.conindid = i.indexrelid)`,
      `   and not exists (select from pg_inherits h where h.inhrelid = i.indexrelid)`,
      `   -- nothing depends on it, and it is not a constraint's or an extension's, nor marked`,
      `   -- DEPENDS ON EXTENSION (deptype x: a create index does not restore it)`,
      `   and not exists (select from pg_depend d`,
      `                    where d.refclassid = 'pg_class'::regclass and d.refobjid = i.indexrelid)`,
      `   and not exists (select from pg_depend d where d.classid = 'pg_class'::regclass`,
      `                    and d.objid = i.indexrelid and d.deptype in ('i', 'e', 'x'))`,
      `   and not exists (select from pg_seclabel s`,
      `                    where s.classoid = 'pg_class'::regclass and s.objoid = i.indexrelid)`,
      `   -- alter index … alter column n set statistics (null or -1: the default)`,
      `   and not exists (select from pg_attribute a where a.attrelid = i.indexrelid`,
      `                    and a.attstattarget is not null and a.attstattarget <> -1)`,
      ` order by ic.relname`,
    ].join('\n'),
    values: [table],
  };
}

/**
 * The table's ACCESS EXCLUSIVE lock (the one `drop index` takes), failing at once rather than waiting
 * when another session holds or awaits a lock on it (checking pg_locks first and dropping after left a
 * moment for another session to come between). Plain SQL in a savepoint, not a DO block: a replay
 * database may revoke plpgsql from PUBLIC (a common hardening), and the DO block then failed the load.
 *
 * @example
 * lock table "Odd Schema"."film" in access exclusive mode nowait
 */
export function lockNowaitSql(index: Pick<DeferredIndex, 'table' | 'tableName'>): Sql {
  return {
    text: `/* tables[${index.table}] indexes */ lock table ${index.tableName} in access exclusive mode nowait`,
    values: [],
  };
}

/** @example drop index "public"."idx_title" */
export function dropIndexSql(index: DeferredIndex): Sql {
  return { text: `/* tables[${index.table}] indexes */ drop index ${index.index}`, values: [] };
}

/** @example create index idx_title on public.film using btree (title)   (pg_get_indexdef's text) */
export function createIndexSql(index: DeferredIndex): Sql {
  return { text: `/* tables[${index.table}] indexes */ ${index.definition}`, values: [] };
}

/** The indexes of a table, dropped for its COPY; `restore` builds them again. */
export interface DroppedIndexes {
  indexes: DeferredIndex[];
  restore(): Promise<void>;
}

/** Drops the deferrable secondary indexes of `table` (deferrableIndexesSql); `restore` recreates them. */
export async function dropDeferrableIndexes(
  table: string,
  run: (sql: Sql) => Promise<pg.QueryResult>,
): Promise<DroppedIndexes> {
  let indexes = (await run(deferrableIndexesSql(table))).rows as DeferredIndex[];
  const label = `/* tables[${table}] indexes */`;
  const first = indexes[0];
  const dropped =
    first !== undefined &&
    (await inSavepoint(label, run, async () => {
      await run(lockNowaitSql(first));
      for (const index of indexes) await run(dropIndexSql(index));
    }));
  if (!dropped) indexes = [];
  return {
    indexes,
    async restore() {
      for (const index of indexes) await run(createIndexSql(index));
    },
  };
}
