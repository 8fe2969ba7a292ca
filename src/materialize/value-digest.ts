import type { ColumnInfo } from '../postgres/catalog.js';
import { quoteIdent, quoteLiteral, quoteTable } from '../postgres/identifiers.js';
import { hashBytesExtended, hashTextExtended, type RowHash } from './row-hash.js';
import { rowTextSql } from './row-text-sql.js';
import { type Sql, stageTable } from './sql.js';

/**
 * Value verification (issue #14 item 3): after the load, each table's loaded rows are compared with the
 * rows that were sent, by an order-independent digest: the row count and the sum of a 64-bit hash
 * (`hashtextextended`, row-hash.ts) of each row's canonical text, `to_jsonb(row)` of the columns the
 * load wrote, as jsonb prints it. The client computes the sent side while streaming the rows
 * (canonical-json.ts); the server computes the loaded side in one scan per table, printing that text
 * column by column (row-text-sql.ts). Only when the digests differ does an exact, slower comparison
 * count the differing rows (differingRowsSql).
 *
 * A changed row goes unnoticed only if the sums collide (about 2^-64 per changed row).
 */
export interface Digest {
  rows: number;
  /** The hash sum as a decimal string (exact: numeric on the server, BigInt here). */
  sum: string;
}

/** The columns of a digest: those the load wrote (the others hold the table's defaults, not the capsule's). */
export type DigestColumn = Pick<ColumnInfo, 'name' | 'type'>;

/** Row count and hash sum of the rows of `t`, each printed as its canonical text. */
function digestSelect(table: string, columns: readonly DigestColumn[]): string {
  return `/* tables[${table}] verify values */ select count(*)::bigint as rows, coalesce(sum(hashtextextended((${rowTextSql('t', columns)}) collate "C", 0)), 0)::text as sum`;
}

/** Rows between folds of the client's partial sums into a BigInt (keeps every partial sum exact). */
const foldEvery = 1 << 20;

/** Accumulates the digest of canonical row texts on the client. */
export class DigestAccumulator {
  rows = 0;
  private high = 0;
  private low = 0;
  private folded = 0n;

  add(canonicalText: string): void {
    this.addHash(hashTextExtended(canonicalText));
  }

  /** Adds the canonical text given as its UTF-8 bytes, `bytes[start, end)`. */
  addBytes(bytes: Buffer, start: number, end: number): void {
    this.addHash(hashBytesExtended(bytes, start, end));
  }

  private addHash(hash: RowHash): void {
    // Below 2^20 rows, |high| < 2^51 and low < 2^52: exact doubles.
    this.high += hash.high;
    this.low += hash.low;
    if (++this.rows % foldEvery === 0) this.fold();
  }

  digest(): Digest {
    this.fold();
    return { rows: this.rows, sum: this.folded.toString() };
  }

  private fold(): void {
    this.folded += BigInt(this.high) * 2n ** 32n + BigInt(this.low);
    this.high = 0;
    this.low = 0;
  }
}

/**
 * The digest of every row of a table (a table that was empty before the load: all its rows are loaded
 * rows), over the written `columns`.
 *
 * @example
 * select count(*)::bigint as rows, coalesce(sum(hashtextextended(('{"id": ' || coalesce(t."id"::text, 'null') || '}') collate "C", 0)), 0)::text as sum
 *   from "film" t
 */
export function tableDigestSql(table: string, columns: readonly DigestColumn[]): Sql {
  return { text: [digestSelect(table, columns), `  from ${quoteTable(table)} t`].join('\n'), values: [] };
}

/**
 * The digest of the target rows with the staged primary keys (a table that held rows before the load),
 * matched as jsonb (`to_jsonb(t.id) = s.doc->'id'`).
 *
 * @example
 * select count(*)::bigint as rows, … as sum from "payment" t
 *  where (to_jsonb(t."payment_id")) in (select s.doc -> 'payment_id' from "replay_stage_2" s)
 */
export function stagedKeysDigestSql(
  table: string,
  index: number,
  primaryKey: readonly string[],
  columns: readonly DigestColumn[],
): Sql {
  const stage = stageTable(index);
  const target = primaryKey.map((column) => `to_jsonb(t.${quoteIdent(column)})`).join(', ');
  const staged = primaryKey.map((column) => `s.doc -> ${quoteLiteral(column)}`).join(', ');
  return {
    text: [
      digestSelect(table, columns),
      `  from ${quoteTable(table)} t where (${target}) in (select ${staged} from ${stage} s)`,
    ].join('\n'),
    values: [],
  };
}

/**
 * The exact comparison, run only when a digest differs: how many staged rows, typed by the table
 * (`jsonb_populate_record`, as the load types them) and printed as jsonb, are not among the loaded rows
 * (`to_jsonb(t.*)`: the whole row even when the table has a column named `t` or `r`)
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
      `  select (to_jsonb(r.*) - $1::text[])::text from ${typed}`,
      `  except all`,
      `  select (to_jsonb(t.*) - $1::text[])::text from ${target} t${restrict}) d`,
    ].join('\n'),
    values: [unwritten],
  };
}

/**
 * How many loaded rows hold a json/jsonb array of more than one dimension: the capsule writes
 * `array['[1,2]','[3,4]']::jsonb[]` (a one-dimensional array of JSON arrays) and a two-dimensional
 * `jsonb[]` as the same JSON, `[[1, 2], [3, 4]]`, and a load makes the second of it, so neither the
 * digest nor the exact comparison (both compare JSON) can tell whether such a row kept its shape.
 * Undefined when no written column is a json/jsonb array. Loaded rows as for the digest: the whole table,
 * or the rows with the staged primary keys.
 *
 * @example
 * select count(*)::bigint as nested from "docs" t where array_ndims(t."blobs") > 1
 */
export function nestedJsonArraysSql(
  table: string,
  columns: readonly DigestColumn[],
  staged?: { index: number; primaryKey: readonly string[] },
): Sql | undefined {
  const arrays = columns.filter((column) => column.type === 'json[]' || column.type === 'jsonb[]');
  if (arrays.length === 0) return undefined;
  const nested = arrays.map((column) => `array_ndims(t.${quoteIdent(column.name)}) > 1`).join(' or ');
  const where = [`(${nested})`];
  if (staged && staged.primaryKey.length > 0) {
    const target = staged.primaryKey.map((column) => `to_jsonb(t.${quoteIdent(column)})`).join(', ');
    const keys = staged.primaryKey.map((column) => `s.doc -> ${quoteLiteral(column)}`).join(', ');
    where.push(`(${target}) in (select ${keys} from ${stageTable(staged.index)} s)`);
  }
  return {
    text: [
      `/* tables[${table}] verify values */ select count(*)::bigint as nested`,
      `  from ${quoteTable(table)} t where ${where.join(' and ')}`,
    ].join('\n'),
    values: [],
  };
}
