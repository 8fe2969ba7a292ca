import type pg from 'pg';

import type { CapsuleReader } from '../capsule/index.js';
import { rewriteSubjectInText, type SubjectRewrite } from '../capsule/rewrite-subject.js';
import type { TableInfo } from '../postgres/catalog.js';
import { canonicalJson } from './canonical-json.js';
import { copyStageSql, createStageSql, type Sql } from './sql.js';
import { copySink, type Sink } from './stage.js';
import {
  differingRowsSql,
  type Digest,
  DigestAccumulator,
  stagedDigestSql,
  tableDigestSql,
} from './value-digest.js';

type Run = (sql: Sql) => Promise<pg.QueryResult>;

/** A table loaded through a jsonb staging table (the staging path, or a non-empty target). */
export interface StagedValues {
  table: string;
  index: number;
  info: TableInfo;
  /** Columns written by the load. */
  written: readonly string[];
}

/** A table copied straight into its (empty) target, with the digest the client computed while sending. */
export interface DirectValues {
  table: string;
  info: TableInfo;
  written: readonly string[];
  sent: DirectDigest;
}

/** The client side of a direct table's digest: canonical text of each row sent, hashed. */
export class DirectDigest {
  private readonly accumulator = new DigestAccumulator();
  private readonly drop: ReadonlySet<string>;

  constructor(info: TableInfo) {
    // Generated columns are not written (Postgres computes them): left out on both sides.
    this.drop = new Set(info.columns.filter((column) => column.generated).map((column) => column.name));
  }

  add(rowText: string): void {
    // A row as export writes it is `to_jsonb(t)::text`, already the canonical text: hashed as it is.
    // Rows that were re-serialised (redacted, rewritten: compact JSON) are canonicalised first. A row
    // taken for canonical that is not makes the digest differ, and the exact comparison decides.
    const canonical = this.drop.size === 0 && rowText.startsWith('{"') && rowText.includes('": ');
    this.accumulator.add(canonical ? rowText : canonicalJson(rowText, this.drop));
  }

  digest(): Digest {
    return this.accumulator.digest();
  }
}

function unwritten(info: TableInfo, written: readonly string[]): string[] {
  return info.columns.map((column) => column.name).filter((name) => !written.includes(name));
}

/**
 * Compares every loaded table's rows with the capsule's (value-digest.ts) and returns the number of
 * capsule rows whose values are not in the replay table, per table with any. Runs inside the load's
 * transaction, after the load; digests are printed in UTC, as export writes timestamps.
 */
export async function verifyValues(options: {
  staged: readonly StagedValues[];
  direct: readonly DirectValues[];
  run: Run;
  client: pg.Client;
  reader: CapsuleReader;
  rewrite: SubjectRewrite;
  toError: (error: unknown, sql: Sql) => Error;
}): Promise<Record<string, number>> {
  const { run } = options;
  await run({ text: `set local timezone = 'UTC'`, values: [] });
  const differing: Record<string, number> = {};
  for (const item of options.staged) {
    const generated = item.info.columns.filter((column) => column.generated).map((column) => column.name);
    const missing = unwritten(item.info, item.written);
    if (item.info.primaryKey.length > 0) {
      const row = (
        await run(stagedDigestSql(item.table, item.index, item.info.primaryKey, generated, missing))
      ).rows[0] as { sent_rows: string; sent_sum: string; got_rows: string; got_sum: string };
      if (row.sent_rows === row.got_rows && row.sent_sum === row.got_sum) continue;
    }
    const n = await count(differingRowsSql(item.table, item.index, item.info.primaryKey, missing));
    if (n > 0) differing[item.table] = n;
  }
  const suspects: DirectValues[] = [];
  for (const item of options.direct) {
    const got = (await run(tableDigestSql(item.table, unwritten(item.info, item.written)))).rows[0] as {
      rows: string;
      sum: string;
    };
    const sent = item.sent.digest();
    if (Number(got.rows) !== sent.rows || got.sum !== sent.sum) suspects.push(item);
  }
  if (suspects.length > 0) {
    // Rows copied straight into the target have no staging table to compare with: stage them now
    // (a second pass over the capsule), only for the tables whose digest differs.
    const indexes = await stageAgain(suspects, options);
    for (const item of suspects) {
      const sql = differingRowsSql(
        item.table,
        indexes.get(item.table)!,
        [],
        unwritten(item.info, item.written),
      );
      const n = await count(sql);
      if (n > 0) differing[item.table] = n;
    }
  }
  return differing;

  async function count(sql: Sql): Promise<number> {
    return Number(((await run(sql)).rows[0] as { differing: string }).differing);
  }
}

/** Stages the capsule rows of some tables again (after the rewrite); returns their staging indexes. */
async function stageAgain(
  tables: readonly DirectValues[],
  options: Parameters<typeof verifyValues>[0],
): Promise<Map<string, number>> {
  // Indexes above any the load used (one per capsule table at most).
  const indexes = new Map(tables.map((item, position) => [item.table, 100_000 + position]));
  const rewriting = options.rewrite.changes.length > 0;
  let sink: Sink | undefined;
  let current: string | undefined;
  try {
    for await (const row of options.reader.rows()) {
      if (row.table !== current) {
        if (sink) await sink.end();
        sink = undefined;
        current = row.table;
        const index = indexes.get(row.table);
        if (index === undefined) continue;
        await options.run(createStageSql(row.table, index));
        sink = copySink(
          options.client,
          copyStageSql(row.table, index),
          { table: row.table },
          {
            chunkSize: 1000,
            toError: options.toError,
          },
        );
      }
      if (sink) await sink.push(rewriting ? rewriteSubjectInText(row.text, options.rewrite) : row.text);
    }
    if (sink) await sink.end();
  } catch (error) {
    await sink?.end().catch(() => {});
    throw error;
  }
  return indexes;
}
