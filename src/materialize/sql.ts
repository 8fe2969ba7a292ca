import type { ParsedTable } from '../manifest/index.js';
import { quoteIdent, quoteTable } from '../postgres/identifiers.js';

/**
 * Pure SQL builders of materialize (SPEC §5). Values only as `$n` parameters; identifiers only through
 * quoteIdent/quoteTable; the manifest's deletePredicate is spliced verbatim but labelled, so a Postgres
 * error position leads back to the manifest entry. The same builders serve the load, --dry-run-sql and
 * --explain.
 */
export interface Sql {
  text: string;
  values: unknown[];
}

/** Name of the temp staging table of the n-th capsule table (names never come from the capsule). */
export function stageTable(index: number): string {
  return quoteIdent(`replay_stage_${index}`);
}

/** `create temp table "replay_stage_0" (doc jsonb not null) on commit drop` */
export function createStageSql(table: string, index: number): Sql {
  return {
    text: `/* tables[${table}] stage */ create temp table ${stageTable(index)} (doc jsonb not null) on commit drop`,
    values: [],
  };
}

/**
 * COPY of row texts into the staging table. JSON text never contains the bytes 0x01/0x02 or a raw
 * newline, so with them as CSV quote and delimiter each line arrives unescaped, exactly as written.
 *
 * @example copy "replay_stage_0" (doc) from stdin with (format csv, delimiter e'\x02', quote e'\x01')
 */
export function copyStageSql(table: string, index: number): Sql {
  return {
    text: `/* tables[${table}] stage */ copy ${stageTable(index)} (doc) from stdin with (format csv, delimiter e'\\x02', quote e'\\x01')`,
    values: [],
  };
}

/** One chunk of the `jsonb` strategy: the rows as one JSON array parameter. */
export function insertStageChunkSql(table: string, index: number, rowTexts: readonly string[]): Sql {
  return {
    text: `/* tables[${table}] stage */ insert into ${stageTable(index)} (doc) select value from jsonb_array_elements($1::jsonb)`,
    values: [`[${rowTexts.join(',')}]`],
  };
}

/**
 * The distinct top-level keys of the staged rows (the capsule's columns of that table). Rows of one table
 * nearly always share their keys (they come from `to_jsonb`), so the first row's keys are taken, and all
 * keys are aggregated only when some row has a key the first does not (`complete` is then false).
 */
export function stagedKeysSql(table: string, index: number): Sql {
  const stage = stageTable(index);
  return {
    text: [
      `/* tables[${table}] columns */ with first as (select array(select jsonb_object_keys(f.doc) from (select doc from ${stage} limit 1) f) as keys)`,
      `select first.keys, not exists (select 1 from ${stage} s where s.doc - first.keys <> '{}'::jsonb) as complete from first`,
    ].join('\n'),
    values: [],
  };
}

/** All distinct top-level keys of the staged rows (when rows do not share their keys). */
export function allStagedKeysSql(table: string, index: number): Sql {
  return {
    text: `/* tables[${table}] columns */ select coalesce(array_agg(k order by k), '{}') as keys from (select k from ${stageTable(index)} s, jsonb_object_keys(s.doc) as k group by k) as keys`,
    values: [],
  };
}

/**
 * Deletes the graph's rows of a table: `t` is the target row, `g` each graph key row (subject keys as
 * text), passed as one jsonb parameter.
 *
 * @example
 * delete from "users" as t using jsonb_to_recordset($1::jsonb) as g("tenant_id" text, "user_id" text)
 *  where (/* tables[users].deletePredicate *\/ t.tenant_id = g.tenant_id and t.user_id = g.user_id)
 */
export function deleteSql(
  table: ParsedTable,
  subjectKeys: readonly string[],
  graphKeys: readonly Record<string, string>[],
): Sql | undefined {
  if (!table.deletePredicate) return undefined;
  const columns = subjectKeys.map((key) => `${quoteIdent(key)} text`).join(', ');
  return {
    text: [
      `/* tables[${table.name}] delete */ delete from ${quoteTable(table.name)} as t`,
      ` using jsonb_to_recordset($1::jsonb) as g(${columns})`,
      ` where (/* tables[${table.name}].deletePredicate */ ${table.deletePredicate}\n)`,
    ].join('\n'),
    values: [JSON.stringify(graphKeys)],
  };
}

export interface UpsertShape {
  /** Columns to write: present in the capsule, not generated. */
  columns: readonly string[];
  primaryKey: readonly string[];
  /** Some written column is GENERATED ALWAYS AS IDENTITY. */
  overridingSystemValue: boolean;
  /**
   * The target table was empty after the deletes (see targetEmptySql): no staged row can conflict with
   * an existing one, so a `do update` upsert is written as a plain insert, which skips the speculative
   * insertion per row. Same outcome: a key repeated inside the capsule fails either way (unique violation
   * instead of "cannot affect row a second time") and rolls back. Ignored for `do nothing` shapes, where
   * the upsert silently absorbs repeated keys and a plain insert would not.
   */
  targetEmpty?: boolean;
}

/** Whether a target table holds no rows (checked after the deletes, before the upsert). */
export function targetEmptySql(table: string): Sql {
  return {
    text: `/* tables[${table}] upsert */ select not exists (select 1 from ${quoteTable(table)}) as empty`,
    values: [],
  };
}

/**
 * Typed upsert from the staging table: jsonb_populate_record gives every value its column's type
 * (arrays, bytea, json, numeric, enums, domains…) exactly as Postgres would parse it.
 *
 * @example
 * insert into "orders" as t ("id", "total") select r."id", r."total"
 *   from "replay_stage_1" s cross join lateral jsonb_populate_record(null::"orders", s.doc) as r
 *   on conflict ("id") do update set "total" = excluded."total"
 */
export function upsertSql(table: string, index: number, shape: UpsertShape): Sql {
  const target = quoteTable(table);
  const columns = shape.columns.map(quoteIdent);
  const lines = [
    `/* tables[${table}] upsert */ insert into ${target} as t (${columns.join(', ')})`,
    ...(shape.overridingSystemValue ? ['overriding system value'] : []),
    `select ${columns.map((column) => `r.${column}`).join(', ')}`,
    `  from ${stageTable(index)} s cross join lateral jsonb_populate_record(null::${target}, s.doc) as r`,
  ];
  const updates = columns.filter((column) => !shape.primaryKey.map(quoteIdent).includes(column));
  if (shape.primaryKey.length > 0 && !(shape.targetEmpty === true && updates.length > 0)) {
    lines.push(
      updates.length > 0
        ? `on conflict (${shape.primaryKey.map(quoteIdent).join(', ')}) do update set ${updates.map((column) => `${column} = excluded.${column}`).join(', ')}`
        : `on conflict (${shape.primaryKey.map(quoteIdent).join(', ')}) do nothing`,
    );
  }
  return { text: lines.join('\n'), values: [] };
}

/** How many staged rows are now in the target, matched by primary key (SPEC §5 "verify"). */
export function verifySql(table: string, index: number, primaryKey: readonly string[]): Sql {
  const target = quoteTable(table);
  const match = primaryKey.map((column) => `t.${quoteIdent(column)} = r.${quoteIdent(column)}`).join(' and ');
  return {
    text: [
      `/* tables[${table}] verify */ select count(*)::bigint as n`,
      `  from ${stageTable(index)} s cross join lateral jsonb_populate_record(null::${target}, s.doc) as r`,
      ` where exists (select 1 from ${target} t where ${match})`,
    ].join('\n'),
    values: [],
  };
}
