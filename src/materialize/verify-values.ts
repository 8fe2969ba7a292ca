import type pg from 'pg';

import type { CapsuleReader } from '../capsule/index.js';
import { rewriteSubjectInText, type SubjectRewrite } from '../capsule/rewrite-subject.js';
import type { TableInfo } from '../postgres/catalog.js';
import { canonicalJson } from './canonical-json.js';
import { invalidRow } from './load-errors.js';
import { copyStageSql, createStageSql, type Sql } from './sql.js';
import { copySink, type Sink } from './stage.js';
import {
  differingRowsSql,
  type Digest,
  DigestAccumulator,
  nestedJsonArraysSql,
  stagedKeysDigestSql,
  tableDigestSql,
} from './value-digest.js';

type Run = (sql: Sql) => Promise<pg.QueryResult>;

/** A loaded table, as value verification sees it. */
export interface LoadedTable {
  table: string;
  info: TableInfo;
  /** Columns written by the load. */
  written: readonly string[];
  /** The digest of the rows sent, computed while they streamed. */
  sent: SentDigest;
  /** Index of its jsonb staging table; undefined when copied straight into the target (load-direct.ts). */
  stage: number | undefined;
  /** The target held no rows before the load: all its rows are loaded rows. */
  targetWasEmpty: boolean;
}

/** The client side of a table's digest: canonical text of each row sent, hashed. */
export class SentDigest {
  private readonly accumulator = new DigestAccumulator();
  private readonly drop: ReadonlySet<string>;

  private readonly table: string;

  constructor(info: TableInfo) {
    this.table = info.name;
    // Generated columns are not written (Postgres computes them): left out on both sides.
    this.drop = new Set(info.columns.filter((column) => column.generated).map((column) => column.name));
  }

  /**
   * Adds a row sent. `utf8`, when given, holds the row text's UTF-8 bytes at `[start, end)` (the capsule's
   * bytes as read): a canonical row is hashed from them rather than encoded again.
   */
  add(rowText: string, utf8?: Buffer, start = 0, end = 0): void {
    // A row as export writes it is `to_jsonb(t)::text`, already the canonical text: hashed as it is.
    // Rows that were re-serialised (redacted, rewritten: compact JSON) are canonicalised first. A row
    // taken for canonical that is not makes the digest differ, and the exact comparison decides.
    const canonical = this.drop.size === 0 && rowText.startsWith('{"') && rowText.includes('": ');
    if (!canonical) this.accumulator.add(this.canonical(rowText));
    else if (utf8) this.accumulator.addBytes(utf8, start, end);
    else this.accumulator.add(rowText);
  }

  /**
   * Adds a batch of rows sent: `texts[i]` is `rows[i]` after the subject rewrite; `bytes`, when given,
   * are the batch's rows as read (CapsuleBatch.bytes: each followed by `\n`), hashed for the rows the
   * rewrite left as they were.
   */
  addBatch(rows: readonly string[], texts: readonly string[], bytes: Buffer | undefined): void {
    let from = 0;
    for (let i = 0; i < texts.length; i++) {
      const text = texts[i]!;
      if (!bytes) {
        this.add(text);
        continue;
      }
      const end = bytes.indexOf(newline, from);
      if (text === rows[i]) this.add(text, bytes, from, end);
      else this.add(text);
      from = end + 1;
    }
  }

  /**
   * Adds a batch of rows sent as they were read (CapsuleBatch.bytes: each followed by `\n`) when no text
   * of them is at hand (json-to-copy-bytes.ts): the same digest as `add` of each row's text.
   */
  addBytes(bytes: Buffer): void {
    // The next `": ` at or after the row (bytes.length: none), searched forwards once per batch.
    let keyEnd = -1;
    for (let from = 0; from < bytes.length;) {
      const end = bytes.indexOf(newline, from);
      if (keyEnd < from) {
        const at = bytes.indexOf(keyEndBytes, from);
        keyEnd = at < 0 ? bytes.length : at;
      }
      const canonical =
        this.drop.size === 0 && bytes[from] === openBrace && bytes[from + 1] === quote && keyEnd < end;
      if (canonical) this.accumulator.addBytes(bytes, from, end);
      else this.accumulator.add(this.canonical(bytes.toString('utf8', from, end)));
      from = end + 1;
    }
  }

  /**
   * The canonical text of the next row; a row that is not JSON is the capsule's fault, reported as the
   * converter reports one (this may see it first: rows are hashed before they are converted or staged).
   */
  private canonical(rowText: string): string {
    try {
      return canonicalJson(rowText, this.drop);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      throw invalidRow(this.table, this.accumulator.rows + 1, error.message);
    }
  }

  digest(): Digest {
    return this.accumulator.digest();
  }
}

const newline = 0x0a;
const openBrace = 0x7b;
const quote = 0x22;
/** What `add` looks for to take a row as printed by to_jsonb (`{"key": …`). */
const keyEndBytes = Buffer.from('": ');

function unwritten(info: TableInfo, written: readonly string[]): string[] {
  return info.columns.map((column) => column.name).filter((name) => !written.includes(name));
}

/** The written columns, with their types (the digest prints each by its type). */
function writtenColumns(info: TableInfo, written: readonly string[]): TableInfo['columns'] {
  return info.columns.filter((column) => written.includes(column.name));
}

/**
 * Compares every loaded table's rows with the capsule's (value-digest.ts) and returns the number of
 * capsule rows whose values are not in the replay table, per table with any (`differing`), and of
 * loaded rows whose json/jsonb arrays' shape the capsule cannot tell (`nestedArrays`,
 * nestedJsonArraysSql). Runs inside the load's
 * transaction, after the load; digests are printed in UTC, floats exactly and intervals in the default
 * style, as export writes them. One scan per
 * table on the server: of the whole table when it was empty before the load, else of the rows with the
 * staged primary keys.
 */
export async function verifyValues(options: {
  tables: readonly LoadedTable[];
  run: Run;
  client: pg.Client;
  reader: CapsuleReader;
  rewrite: SubjectRewrite;
  toError: (error: unknown, sql: Sql) => Error;
}): Promise<{ differing: Record<string, number>; nestedArrays: Record<string, number> }> {
  const { run } = options;
  // Printed as export prints them (src/export/snapshot.ts), whatever the replay database's own settings.
  for (const setting of [`timezone = 'UTC'`, 'extra_float_digits = 3', `intervalstyle = 'postgres'`])
    await run({ text: `set local ${setting}`, values: [] });
  const differing: Record<string, number> = {};
  const nestedArrays: Record<string, number> = {};
  const suspects: LoadedTable[] = [];
  for (const item of options.tables) {
    const columns = writtenColumns(item.info, item.written);
    const nestedSql = nestedJsonArraysSql(
      item.table,
      columns,
      item.targetWasEmpty || item.stage === undefined
        ? undefined
        : { index: item.stage, primaryKey: item.info.primaryKey },
    );
    if (nestedSql) {
      const nested = Number(((await run(nestedSql)).rows[0] as { nested: string }).nested);
      if (nested > 0) nestedArrays[item.table] = nested;
    }
    const sql = item.targetWasEmpty
      ? tableDigestSql(item.table, columns)
      : item.stage !== undefined && item.info.primaryKey.length > 0
        ? stagedKeysDigestSql(item.table, item.stage, item.info.primaryKey, columns)
        : undefined; // no key to find the loaded rows among others: compared exactly
    if (sql) {
      const got = (await run(sql)).rows[0] as { rows: string; sum: string };
      const sent = item.sent.digest();
      if (Number(got.rows) === sent.rows && got.sum === sent.sum) continue;
    }
    if (item.stage === undefined) {
      suspects.push(item);
      continue;
    }
    const missing = unwritten(item.info, item.written);
    const n = await count(differingRowsSql(item.table, item.stage, item.info.primaryKey, missing));
    if (n > 0) differing[item.table] = n;
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
  return { differing, nestedArrays };

  async function count(sql: Sql): Promise<number> {
    return Number(((await run(sql)).rows[0] as { differing: string }).differing);
  }
}

/** Stages the capsule rows of some tables again (after the rewrite); returns their staging indexes. */
async function stageAgain(
  tables: readonly LoadedTable[],
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
