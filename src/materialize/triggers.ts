import type pg from 'pg';

import { quoteIdent } from '../postgres/identifiers.js';
import type { Sql } from './sql.js';

/**
 * User triggers during the load (issue #14 item 2). A BEFORE INSERT/UPDATE trigger of the app (a
 * `last_update = now()` stamp, a tsvector recomputed from text) would replace the capsule's values with
 * its own, so the load disables every enabled user trigger of the loaded tables (and their partitions)
 * inside its transaction, and restores each one's mode before the commit; a rollback restores them too.
 * Foreign keys are internal triggers and stay on (unlike `session_replication_role = replica`, which
 * would skip them). Disabling needs ownership of the table; tables the role does not own keep their
 * triggers and are named in a warning.
 */
export interface UserTrigger {
  /** The relation the trigger is on (regclass text: a loaded table or one of its partitions). */
  relation: string;
  /** The manifest table it belongs to. */
  table: string;
  name: string;
  /** pg_trigger.tgenabled: O (origin/local), R (replica), A (always). */
  mode: 'O' | 'R' | 'A';
  /** The current role may alter the relation (owns it, by membership, or is superuser). */
  mayAlter: boolean;
}

/**
 * Enabled user triggers on the tables and every partition below them.
 *
 * @example
 * select n.name as "table", r.relid::regclass::text as relation, tg.tgname as name, tg.tgenabled as mode, …
 *   from unnest($1::text[]) n(name) cross join lateral (the table union pg_partition_tree(…)) r join pg_trigger tg …
 */
export function userTriggersSql(tables: readonly string[]): Sql {
  return {
    text: [
      `/* triggers */ select n.name as "table", r.relid::regclass::text as relation, tg.tgname::text as name,`,
      `       tg.tgenabled::text as mode, pg_has_role(current_user, c.relowner, 'USAGE') as "mayAlter"`,
      `  from unnest($1::text[]) as n(name)`,
      `  -- pg_partition_tree() lists nothing for a table that is not partitioned: add the table itself`,
      `  cross join lateral (select to_regclass(n.name) as relid union`,
      `                      select p.relid from pg_partition_tree(to_regclass(n.name)) p) as r`,
      `  join pg_class c on c.oid = r.relid`,
      `  join pg_trigger tg on tg.tgrelid = r.relid and not tg.tgisinternal and tg.tgenabled <> 'D'`,
      ` where to_regclass(n.name) is not null`,
      ` order by 1, 2, 3`,
    ].join('\n'),
    values: [tables],
  };
}

/**
 * Turns one trigger off, or back to its mode. `only`: the relation itself, not its partitions (each
 * partition's trigger is switched on its own).
 *
 * @example alter table only "public"."film" disable trigger "film_fulltext_trigger"
 */
export function switchTriggerSql(trigger: UserTrigger, to: 'off' | 'restore'): Sql {
  const verb =
    to === 'off'
      ? 'disable trigger'
      : { O: 'enable trigger', R: 'enable replica trigger', A: 'enable always trigger' }[trigger.mode];
  return {
    text: `/* tables[${trigger.table}] triggers */ alter table only ${trigger.relation} ${verb} ${quoteIdent(trigger.name)}`,
    values: [],
  };
}

export interface SuspendedTriggers {
  /** Manifest tables whose triggers were turned off for the load. */
  disabled: string[];
  /** Manifest tables whose triggers stay on (the role may not alter them, or the user asked). */
  firing: string[];
  /** Turns the disabled triggers back on (before the commit). */
  restore(): Promise<void>;
}

/** Disables the enabled user triggers of the tables the role may alter; `keep` leaves all of them on. */
export async function suspendTriggers(
  tables: readonly string[],
  run: (sql: Sql) => Promise<pg.QueryResult>,
  keep: boolean,
): Promise<SuspendedTriggers> {
  const triggers = (await run(userTriggersSql(tables))).rows as UserTrigger[];
  const off = keep ? [] : triggers.filter((trigger) => trigger.mayAlter);
  const on = triggers.filter((trigger) => !off.includes(trigger));
  for (const trigger of off) await run(switchTriggerSql(trigger, 'off'));
  const distinct = (list: UserTrigger[]) => [...new Set(list.map((trigger) => trigger.table))];
  return {
    disabled: distinct(off),
    firing: distinct(on),
    async restore() {
      for (const trigger of off) await run(switchTriggerSql(trigger, 'restore'));
    },
  };
}
