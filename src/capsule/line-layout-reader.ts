import { CapsuleError } from '../errors.js';
import { type CapsuleHeader, lineLayoutId, validateCapsuleHeader } from './header.js';
import { LineTooLongError, maxLineBytes } from './limits.js';
import { LayoutBreak, LineLayoutParser } from './line-layout-parser.js';
import { LineLayoutRows } from './reader-batches.js';
import { checkIntegrity } from './reader-integrity.js';
import { openByteSource, openTextSource } from './reader-source.js';
import type { CapsuleBatch, CapsuleReader, CapsuleRow, CapsuleSummary } from './reader-types.js';

/** A line of text at the very end of the file that has no newline: the file was cut there. */
const unterminated = Symbol('unterminated');

/**
 * Splits text chunks into lines (without `\n`). A last line without a newline is yielded alone, in an
 * array marked with `unterminated`.
 */
export async function* splitLines(
  chunks: AsyncIterable<string>,
  limit = maxLineBytes(),
): AsyncGenerator<string[] & { [unterminated]?: true }> {
  // Linear: each chunk is scanned once; an unfinished line is kept as pieces and joined once, when its
  // newline arrives (no `rest + chunk` re-scans, which made a 50 MB line quadratic).
  let pending: string[] = [];
  let pendingLength = 0;
  let done = 0;
  for await (const chunk of chunks) {
    const lines: string[] = [];
    let start = 0;
    let nl = chunk.indexOf('\n');
    while (nl !== -1) {
      const piece = chunk.slice(start, nl);
      if (pending.length > 0) {
        pending.push(piece);
        lines.push(pending.join(''));
        pending = [];
        pendingLength = 0;
      } else {
        lines.push(piece);
      }
      start = nl + 1;
      nl = chunk.indexOf('\n', start);
    }
    if (start < chunk.length) {
      const tail = chunk.slice(start);
      pending.push(tail);
      pendingLength += tail.length;
      if (pendingLength > limit) throw new LineTooLongError(done + lines.length + 1, limit);
    }
    done += lines.length;
    if (lines.length > 0) yield lines;
  }
  if (pending.length > 0) yield Object.assign([pending.join('')], { [unterminated]: true as const });
}

/**
 * Reads the header of a file whose first lines claim the line layout. Returns undefined when the file
 * breaks the layout before its first row (e.g. it was pretty-printed again): the caller then reads it
 * with the generic parser.
 */
export async function probeLineLayout(path: string): Promise<CapsuleHeader | undefined> {
  const source = await openTextSource(path);
  const parser = new LineLayoutParser();
  try {
    for await (const lines of splitLines(source.chunks)) {
      for (const line of lines) {
        const row = parser.push(line);
        if (row !== undefined) {
          JSON.parse(row); // the first row must stand on its own line, else this is not the line layout
          return header(path, parser);
        }
        if (parser.state === 'done') return header(path, parser);
      }
    }
    return undefined; // ended early: the generic parser names the problem
  } catch (error) {
    if (error instanceof LineTooLongError) {
      const table = parser.state === 'rows' ? ` (table ${parser.table})` : '';
      throw new LineTooLongError(error.line, maxLineBytes(), table);
    }
    if (error instanceof LayoutBreak || error instanceof SyntaxError) return undefined;
    throw error;
  } finally {
    await source.chunks[Symbol.asyncIterator]().return?.(undefined);
  }
}

function header(path: string, parser: LineLayoutParser): CapsuleHeader {
  return validateCapsuleHeader(parser.header, { file: path, hasTables: true, layout: lineLayoutId });
}

/**
 * A reader over a line-layout capsule: rows are yielded as their text, hashed, never parsed
 * (reader-batches.ts finds them on the bytes).
 */
export function lineLayoutReader(path: string, capsuleHeader: CapsuleHeader): CapsuleReader {
  let last: CapsuleSummary | undefined;
  async function* batches(
    options: { bytes?: boolean; fileHash?: boolean } = {},
  ): AsyncGenerator<CapsuleBatch> {
    const source = await openByteSource(path, { fileHash: options.fileHash ?? true });
    const lines = new LineLayoutRows(maxLineBytes(), options.bytes ?? false);
    const { parser } = lines;
    try {
      for await (const chunk of source.chunks) yield* lines.push(chunk);
      yield* lines.end();
    } catch (error) {
      const { table } = lines;
      if (error instanceof LineTooLongError) {
        throw new LineTooLongError(error.line, maxLineBytes(), table ? ` (table ${table})` : '');
      }
      if (error instanceof LayoutBreak && lines.cut) {
        throw new CapsuleError(`capsule ${path} is truncated: line ${error.line} is incomplete`, {
          code: 'capsule_truncated',
        });
      }
      if (error instanceof LayoutBreak) {
        throw new CapsuleError(`capsule ${path} is corrupt at line ${error.line}: ${error.reason}`, {
          code: 'capsule_corrupt',
        });
      }
      throw error;
    }
    if (parser.state !== 'done') {
      throw new CapsuleError(
        `capsule ${path} is truncated: it ends at line ${parser.line} ${parser.position()}`,
        { code: 'capsule_truncated' },
      );
    }
    const { rowCounts } = lines;
    const digests = Object.fromEntries([...lines.hashes].map(([name, h]) => [name, h.digest('hex')]));
    last = {
      rowCounts,
      integrity: checkIntegrity({ rowCounts, hashes: digests, integrity: parser.trailer.integrity }),
      file: source.file(),
    };
    throwIfFailed(path, last);
  }
  return {
    path,
    header: capsuleHeader,
    batches,
    rows: () => rowsOf(batches()),
    summary: () => summaryOrThrow(last),
  };
}

/** Rows one at a time, from batches. */
export async function* rowsOf(batches: AsyncIterable<CapsuleBatch>): AsyncGenerator<CapsuleRow> {
  for await (const { table, rows } of batches) for (const text of rows) yield { table, text };
}

/** After a complete iteration: a failed integrity check is an error (code `capsule_integrity_failed`). */
export function throwIfFailed(path: string, summary: CapsuleSummary): void {
  if (summary.integrity.status !== 'failed') return;
  throw new CapsuleError(
    `capsule ${path} failed its integrity check: ${summary.integrity.problems.join('; ')}`,
    { code: 'capsule_integrity_failed' },
  );
}

export function summaryOrThrow(summary: CapsuleSummary | undefined): CapsuleSummary {
  if (!summary) throw new Error('CapsuleReader.summary() is only available after rows() was read to the end');
  return summary;
}
