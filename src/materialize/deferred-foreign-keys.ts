import type pg from 'pg';

import type { Sql } from './sql.js';
import { inSavepoint } from './table-lock.js';

/**
 * Deferred foreign-key checks (issue #16), as pg_restore does them: a table copied straight into
 * (load-direct.ts) that held no rows before the load gets its foreign keys dropped inside the load's
 * transaction before its COPY, and each one added again from its own definition
 * (`pg_get_constraintdef`) once every table is loaded, still in that transaction. Adding a foreign key
 * checks every row in one join (PostgreSQL's initial check), where a COPY with the key in place runs
 * one lookup, and takes a row lock on the referenced row, per row: on 700,000 rows referencing one
 * tenant that is ~5× the COPY's own cost. A rollback restores the dropped keys with everything else; a
 * row without its parent fails the load as it did, with the same error (SQLSTATE 23503, the same
 * message and key).
 *
 * Only keys that re-adding restores exactly, and whose check at the end sees what a check per row would
 * have seen, are deferred (docs/materialize.md "Deferred foreign-key checks" lists the cases kept and
 * why): validated, between plain tables, a key of its own, no comment, nothing depending on it but its
 * own triggers, all enabled; no forced row-level security on either table; no other unique index on
 * the referenced columns; not in a `session_replication_role = replica` session; not to columns a key
 * of the referenced table with an ON UPDATE action may change; neither table named like the load's
 * staging tables (`replay_stage_<n>`); referencing the table itself or a table loaded before it; a
 * table the role may alter, `references` on the referenced one, and both tables' ACCESS EXCLUSIVE locks
 * (the ones `drop constraint` takes) taken without waiting. What a re-added key changes: its oid and
 * its triggers' oids and names (`RI_ConstraintTrigger_*`).
 */
export interface DeferredForeignKey {
  /** The manifest table. */
  table: string;
  /** The constraint's name, quoted as needed. */
  name: string;
  /** `pg_get_constraintdef`: `FOREIGN KEY (…) REFERENCES …` as it restores the key. */
  definition: string;
  /** The table as `regclass` text (quoted, schema-qualified when needed). */
  tableName: string;
  /** The referenced table as `regclass` text. */
  referencedName: string;
}

/**
 * The foreign keys of `table` that can be dropped for its COPY and checked at the end of the load.
 * `later`: the manifest tables loaded after it (their keys' referenced rows may still change).
 *
 * @example
 * select $1::text as "table", quote_ident(c.conname) as name, pg_get_constraintdef(c.oid) as definition, …
 *   from pg_constraint c … where c.conrelid = to_regclass($1) and c.contype = 'f' and c.convalidated and …
 */
export function deferrableForeignKeysSql(table: string, later: readonly string[]): Sql {
  return {
    text: [
      `/* tables[${table}] foreign keys */ select $1::text as "table", quote_ident(c.conname) as name,`,
      `       pg_get_constraintdef(c.oid) as definition, c.conrelid::regclass::text as "tableName",`,
      `       c.confrelid::regclass::text as "referencedName"`,
      `  from pg_constraint c`,
      `  join pg_class tc on tc.oid = c.conrelid`,
      `  join pg_class rc on rc.oid = c.confrelid`,
      ` where c.conrelid = to_regclass($1) and c.contype = 'f' and c.convalidated`,
      `   -- plain tables, a key of its own (not a partitioned table's, not inherited)`,
      `   and tc.relkind = 'r' and rc.relkind = 'r' and c.conparentid = 0 and c.conislocal`,
      `   and pg_has_role(current_user, tc.relowner, 'USAGE')`,
      `   and has_table_privilege(c.confrelid, 'REFERENCES')`,
      `   and obj_description(c.oid, 'pg_constraint') is null`,
      `   -- a replica session skips the per-row checks (foreign-key triggers do not fire); adding one does not`,
      `   and current_setting('session_replication_role') <> 'replica'`,
      `   -- the referenced table is not one a later table's upsert may change by a cascade`,
      `   and not exists (select from pg_constraint u`,
      `                    where u.conrelid = c.confrelid and u.contype = 'f' and u.confupdtype in ('c', 'n', 'd')`,
      `                      and u.conkey && c.confkey)`,
      `   -- names a staging table (sql.ts stageTable, pg_temp: searched first) created later would shadow`,
      `   and tc.relname !~ '^replay_stage_[0-9]+$' and rc.relname !~ '^replay_stage_[0-9]+$'`,
      `   -- adding a key checks it under a forced row-level security of a table the role owns`,
      `   and not tc.relforcerowsecurity and not rc.relforcerowsecurity`,
      `   -- added again, it uses the first unique index on its columns: keep it when there is a choice`,
      `   and not exists (select from pg_index i where i.indrelid = c.confrelid and i.indisunique`,
      `                    and i.indexrelid <> c.conindid and i.indnkeyatts = cardinality(c.confkey)`,
      `                    and (i.indkey::int2[])[0:i.indnkeyatts - 1] @> c.confkey)`,
      `   -- the referenced table is not loaded after this one`,
      `   and not exists (select from unnest($2::text[]) l where to_regclass(l) = c.confrelid)`,
      `   -- nothing depends on it but its own triggers, which are all enabled`,
      `   and not exists (select from pg_depend d where d.refclassid = 'pg_constraint'::regclass`,
      `                    and d.refobjid = c.oid and d.classid <> 'pg_trigger'::regclass)`,
      `   and not exists (select from pg_depend d where d.classid = 'pg_constraint'::regclass`,
      `                    and d.objid = c.oid and d.deptype in ('e', 'x'))`,
      `   and not exists (select from pg_trigger t where t.tgconstraint = c.oid and t.tgenabled <> 'O')`,
      ` order by c.conname`,
    ].join('\n'),
    values: [table, [...later]],
  };
}

/** @example lock table public.comments, public.events in access exclusive mode nowait */
export function lockForeignKeysSql(table: string, keys: readonly DeferredForeignKey[]): Sql {
  const names = [...new Set(keys.flatMap((key) => [key.tableName, key.referencedName]))];
  return {
    text: `/* tables[${table}] foreign keys */ lock table ${names.join(', ')} in access exclusive mode nowait`,
    values: [],
  };
}

/** @example alter table public.comments drop constraint comments_event_id_fkey */
export function dropForeignKeySql(key: DeferredForeignKey): Sql {
  return {
    text: `/* tables[${key.table}] foreign keys */ alter table ${key.tableName} drop constraint ${key.name}`,
    values: [],
  };
}

/** @example alter table public.comments add constraint comments_event_id_fkey FOREIGN KEY (event_id) REFERENCES events(id) */
export function addForeignKeySql(key: DeferredForeignKey): Sql {
  return {
    text: `/* tables[${key.table}] foreign keys */ alter table ${key.tableName} add constraint ${key.name} ${key.definition}`,
    values: [],
  };
}

/** Drops the deferrable foreign keys of `table` (deferrableForeignKeysSql); `restore` adds them again. */
export async function dropDeferrableForeignKeys(
  table: string,
  later: readonly string[],
  run: (sql: Sql) => Promise<pg.QueryResult>,
): Promise<DroppedForeignKeys> {
  let keys = (await run(deferrableForeignKeysSql(table, later))).rows as DeferredForeignKey[];
  // Dropping a key drops its triggers on the referenced table too, which PostgreSQL refuses while that
  // table has checks pending in this transaction (a deferrable key of a table loaded before): then the
  // keys stay, checked row by row.
  const dropped =
    keys.length > 0 &&
    (await inSavepoint(`/* tables[${table}] foreign keys */`, run, async () => {
      await run(lockForeignKeysSql(table, keys));
      for (const key of keys) await run(dropForeignKeySql(key));
    }));
  if (!dropped) keys = [];
  return {
    keys,
    async restore() {
      for (const key of keys) await run(addForeignKeySql(key));
    },
  };
}

/** The foreign keys of a table, dropped for its COPY; `restore` adds them again (checking every row). */
export interface DroppedForeignKeys {
  keys: DeferredForeignKey[];
  restore(): Promise<void>;
}
