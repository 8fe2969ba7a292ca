import { createHash } from 'node:crypto';

import { quoteIdent, quoteTable } from '../postgres/identifiers.js';
import { type Sql, stageTable } from './sql.js';

/**
 * Value verification (issue #14 item 3): after the load, each table's loaded rows are compared with the
 * rows that were sent, by an order-independent digest: the row count and the sum of a 52-bit hash (the
 * first 13 hex digits of md5) of each row's canonical text, `to_jsonb(row)` minus the columns the load
 * did not write, as jsonb prints it. The server computes it in one query per table; the client computes
 * the same while streaming (canonical-json.ts) or the server computes it from the staging table. Only
 * when a digest differs does an exact, slower comparison count the differing rows (differingRowsSql).
 *
 * A changed row goes unnoticed only if the sums collide (about 2^-52 per changed row).
 */
export interface Digest {
  rows: number;
  /** The hash sum as a decimal string (exact: numeric on the server, two exact halves here). */
  sum: string;
}

/** Hashed expression of a jsonb row text, shared by every digest query. */
function hash(jsonbText: string): string {
  return `('x' || left(md5(${jsonbText}), 13))::bit(52)::bigint`;
}

/** Accumulates the digest of canonical row texts on the client. */
export class DigestAccumulator {
  rows = 0;
  // Two halves (24 + 28 bits) keep every partial sum an exact double up to 2^25 rows per table.
  private high = 0;
  private low = 0;

  add(canonicalText: string): void {
    const hex = createHash('md5').update(canonicalText).digest('hex');
    this.high += parseInt(hex.slice(0, 6), 16);
    this.low += parseInt(hex.slice(6, 13), 16);
    this.rows++;
  }

  digest(): Digest {
    return { rows: this.rows, sum: (BigInt(this.high) * 2n ** 28n + BigInt(this.low)).toString() };
  }
}

/**
 * The digest of every row of a table (a table that was empty before the load: all its rows are loaded
 * rows). `$1`: columns the load did not write (their values are the table's defaults, not the capsule's).
 *
 * @example
 * select count(*)::bigint as rows, coalesce(sum(('x' || left(md5((to_jsonb(t) - $1::text[])::text), 13))::bit(52)::bigint), 0)::text as sum
 *   from "film" t
 */
export function tableDigestSql(table: string, unwritten: readonly string[]): Sql {
  return {
    text: [
      `/* tables[${table}] verify values */ select count(*)::bigint as rows,`,
      `       coalesce(sum(${hash('(to_jsonb(t) - $1::text[])::text')}), 0)::text as sum`,
      `  from ${quoteTable(table)} t`,
    ].join('\n'),
    values: [unwritten],
  };
}

/**
 * Digests of a staged table: the staged rows (`$1`: capsule keys not written) and the target rows with
 * the staged primary keys (`$2`: columns not written), matched as jsonb (`to_jsonb(t.id) = s.doc->'id'`).
 *
 * @example
 * select (select count(*) from "replay_stage_0") as sent_rows, … as sent_sum, … as got_rows, … as got_sum
 */
export function stagedDigestSql(
  table: string,
  index: number,
  primaryKey: readonly string[],
  dropped: readonly string[],
  unwritten: readonly string[],
): Sql {
  const stage = stageTable(index);
  const target = primaryKey.map((column) => `to_jsonb(t.${quoteIdent(column)})`).join(', ');
  const staged = primaryKey.map((column) => `s.doc -> ${quoteLiteralKey(column)}`).join(', ');
  return {
    text: [
      `/* tables[${table}] verify values */ select sent.rows as sent_rows, sent.sum as sent_sum, got.rows as got_rows, got.sum as got_sum`,
      `  from (select count(*)::bigint as rows, coalesce(sum(${hash('(s.doc - $1::text[])::text')}), 0)::text as sum`,
      `          from ${stage} s) sent,`,
      `       (select count(*)::bigint as rows, coalesce(sum(${hash('(to_jsonb(t) - $2::text[])::text')}), 0)::text as sum`,
      `          from ${quoteTable(table)} t where (${target}) in (select ${staged} from ${stage} s)) got`,
    ].join('\n'),
    values: [dropped, unwritten],
  };
}

/**
 * The exact comparison, run only when a digest differs: how many staged rows, typed by the table
 * (`jsonb_populate_record`, as the load types them) and printed as jsonb, are not among the loaded rows
 * (a multiset difference). Loaded rows: those with the staged primary keys, or the whole table
 * (`primaryKey` empty: a table without one, or one that was empty before the load).
 *
 * @example
 * select count(*)::bigint as differing from (select … from "replay_stage_0" s … except all select … from "film" t …) d
 */
export function differingRowsSql(
  table: string,
  index: number,
  primaryKey: readonly string[],
  unwritten: readonly string[],
): Sql {
  const target = quoteTable(table);
  const stage = stageTable(index);
  const typed = `${stage} s cross join lateral jsonb_populate_record(null::${target}, s.doc) as r`;
  const restrict =
    primaryKey.length === 0
      ? ''
      : ` where (${primaryKey.map((column) => `t.${quoteIdent(column)}`).join(', ')}) in (select ${primaryKey.map((column) => `r.${quoteIdent(column)}`).join(', ')} from ${typed})`;
  return {
    text: [
      `/* tables[${table}] verify values */ select count(*)::bigint as differing from (`,
      `  select (to_jsonb(r) - $1::text[])::text from ${typed}`,
      `  except all`,
      `  select (to_jsonb(t) - $1::text[])::text from ${target} t${restrict}) d`,
    ].join('\n'),
    values: [unwritten],
  };
}

/** A column name as a jsonb key literal (column names come from the catalog, never the capsule). */
function quoteLiteralKey(column: string): string {
  return `'${column.replace(/'/g, "''")}'`;
}
