import { getManyValues, isMany, none } from 'stream-chain/core';
import { jsonParser } from 'stream-json/parser.js';

import { CapsuleError } from '../errors.js';
import { GenericWalker, type Token, WalkError } from './generic-walker.js';
import { type CapsuleHeader, validateCapsuleHeader } from './header.js';
import { rowsOf, summaryOrThrow, throwIfFailed } from './line-layout-reader.js';
import { checkIntegrity } from './reader-integrity.js';
import { openTextSource } from './reader-source.js';
import type { CapsuleBatch, CapsuleReader, CapsuleRow, CapsuleSummary } from './reader-types.js';

type Tokenizer = (chunk: string | typeof none) => unknown;

/**
 * Streams a capsule of any valid shape (the original tool's pretty-printed, `tables`-first files,
 * re-formatted files) through a token parser, twice: once on open for the header and row counts, once
 * per `rows()` to yield the rows. Memory stays flat whatever the file size.
 */
export async function genericReader(path: string): Promise<CapsuleReader> {
  const first = new GenericWalker(false);
  for await (const _batch of walk(path, first)) {
    // counting pass: the walker collects the header and counts rows
  }
  const header: CapsuleHeader = validateCapsuleHeader(first.header, {
    file: path,
    hasTables: first.hasTables,
    layout: 'generic',
  });
  let last: CapsuleSummary | undefined;
  async function* batches(): AsyncGenerator<CapsuleBatch> {
    const walker = new GenericWalker(true);
    const source = walk(path, walker);
    for await (const rows of source) yield* byTable(rows);
    const problems = Object.entries(first.rowCounts)
      .filter(([table, count]) => walker.rowCounts[table] !== count)
      .map(([table]) => `table "${table}" changed while it was being read`);
    const integrity = checkIntegrity({ rowCounts: walker.rowCounts, integrity: walker.header.integrity });
    last = {
      rowCounts: walker.rowCounts,
      integrity:
        problems.length > 0
          ? { status: 'failed', problems: [...problems, ...integrity.problems] }
          : integrity,
      file: fileInfo.get(walker)!,
    };
    throwIfFailed(path, last);
  }
  return { path, header, batches, rows: () => rowsOf(batches()), summary: () => summaryOrThrow(last) };
}

/** Consecutive rows of the same table as one batch. */
function byTable(rows: readonly CapsuleRow[]): CapsuleBatch[] {
  const out: CapsuleBatch[] = [];
  for (const { table, text } of rows) {
    const batch = out.at(-1);
    if (batch?.table === table) batch.rows.push(text);
    else out.push({ table, rows: [text] });
  }
  return out;
}

const fileInfo = new WeakMap<GenericWalker, CapsuleSummary['file']>();

/** Tokenizes the file and feeds the walker; yields the rows it completes, a chunk's worth at a time. */
async function* walk(path: string, walker: GenericWalker): AsyncGenerator<CapsuleRow[]> {
  const source = await openTextSource(path);
  const tokenize = jsonParser({ packValues: true, streamValues: false }) as unknown as Tokenizer;
  let offset = 0;
  const feed = (input: string | typeof none): CapsuleRow[] => {
    const out: CapsuleRow[] = [];
    let result: unknown;
    try {
      result = tokenize(input);
    } catch (error) {
      const message = (error as Error).message;
      throw new CapsuleError(
        input === none
          ? `capsule ${path} is truncated or not valid JSON: ${message}`
          : `capsule ${path} is not valid JSON near byte ${offset}: ${message}`,
        { code: input === none ? 'capsule_truncated' : 'capsule_corrupt' },
      );
    }
    if (!isMany(result)) return out;
    try {
      for (const token of getManyValues(result) as Token[]) {
        const row = walker.push(token);
        if (row) out.push(row);
      }
    } catch (error) {
      if (error instanceof WalkError) {
        throw new CapsuleError(`capsule ${path} is invalid: ${error.message}`, { code: 'capsule_invalid' });
      }
      throw error;
    }
    return out;
  };
  for await (const chunk of source.chunks) {
    const rows = feed(chunk);
    offset += chunk.length;
    if (rows.length > 0) yield rows;
  }
  const rows = feed(none);
  if (rows.length > 0) yield rows;
  if (walker.place !== 'end') {
    throw new CapsuleError(`capsule ${path} is truncated: the JSON ends early`, {
      code: 'capsule_truncated',
    });
  }
  fileInfo.set(walker, source.file());
}
