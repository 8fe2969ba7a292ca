import type pg from 'pg';

import { quoteIdent, quoteTable } from '../postgres/identifiers.js';
import type { Sql } from './sql.js';

/**
 * Sequences behind the integer columns of the loaded tables, and moving them past the loaded ids so
 * the app's own next insert does not collide with a loaded row (SPEC §5; issue #14 item 4).
 *
 * A sequence belongs to a column when it is OWNED BY it (serial, identity: what pg_get_serial_sequence
 * finds) or when the column's default calls it without owning it (`default nextval('customer_id_seq')`,
 * common in dumps): the default's pg_attrdef entry depends on the sequence in pg_depend.
 *
 * @example
 * with cols as (…integer columns of $1 tables…) select "table", "column", "sequence" from cols
 *   cross join lateral (owned sequences union sequences the default depends on) …
 */
export function columnSequencesSql(tables: readonly string[]): Sql {
  return {
    text: [
      `/* sequences */ with cols as (`,
      `  select n.name, a.attrelid, a.attnum, a.attname::text as attname`,
      `    from unnest($1::text[]) as n(name)`,
      `    join pg_attribute a on a.attrelid = to_regclass(n.name) and a.attnum > 0 and not a.attisdropped`,
      `   where a.atttypid in ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype))`,
      `select c.name as "table", c.attname as "column", s.seq::regclass::text as "sequence"`,
      `  from cols c cross join lateral (`,
      `    -- owned by the column: serial, identity`,
      `    select d.objid as seq from pg_depend d`,
      `     where d.classid = 'pg_class'::regclass and d.refclassid = 'pg_class'::regclass`,
      `       and d.refobjid = c.attrelid and d.refobjsubid = c.attnum and d.deptype in ('a', 'i')`,
      `    union`,
      `    -- called by the column's default (nextval('…'::regclass)) without being owned`,
      `    select d.refobjid from pg_attrdef ad join pg_depend d on d.classid = 'pg_attrdef'::regclass`,
      `       and d.objid = ad.oid and d.refclassid = 'pg_class'::regclass`,
      `     where ad.adrelid = c.attrelid and ad.adnum = c.attnum) s`,
      `  join pg_class q on q.oid = s.seq and q.relkind = 'S'`,
      ` order by 1, 2, 3`,
    ].join('\n'),
    values: [tables],
  };
}

/**
 * Moves one sequence past the column's largest loaded value; never backwards, never past the
 * sequence's maximum (the load would fail on setval), and only ascending sequences. A sequence not yet
 * called counts as being just before its start value.
 *
 * @example
 * select setval($1::regclass, m.v) from (select max("id")::bigint as v from "orders") m, pg_sequence s
 *  where s.seqrelid = $1::regclass and … m.v > coalesce(pg_sequence_last_value($1::regclass), s.seqstart - 1)
 */
export function advanceSequenceSql(table: string, column: string, sequence: string): Sql {
  return {
    text: [
      `/* tables[${table}] sequence of ${column} */ select setval($1::regclass, m.v)`,
      `  from (select max(${quoteIdent(column)})::bigint as v from ${quoteTable(table)}) m, pg_sequence s`,
      ` where s.seqrelid = $1::regclass and m.v is not null and s.seqincrement > 0 and m.v <= s.seqmax`,
      `   and m.v > coalesce(pg_sequence_last_value($1::regclass), s.seqstart - 1)`,
    ].join('\n'),
    values: [sequence],
  };
}

/** Finds the sequences of the tables' integer columns (owned or used by defaults) and advances each. */
export async function advanceSequences(
  tables: readonly string[],
  run: (sql: Sql) => Promise<pg.QueryResult>,
): Promise<void> {
  const { rows } = await run(columnSequencesSql(tables));
  for (const row of rows as { table: string; column: string; sequence: string }[]) {
    await run(advanceSequenceSql(row.table, row.column, row.sequence));
  }
}
