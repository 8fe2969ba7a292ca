import type { QueryError } from '../generated/session.js';

export type Verdict = 'matched' | 'mismatched' | 'error-matched' | 'new-error' | 'not-compared';

export interface ComparableResult {
  columns: string[];
  rows: (string | null)[][];
  commandTag: string | null;
  error: QueryError | null;
}

export interface CompareOptions {
  /** Column names left out of the comparison (volatile values: timestamps, sequences). */
  ignoreColumns?: string[];
  /** Compare rows as multisets instead of in order. */
  unordered?: boolean;
  /** How many differing rows the diff shows. */
  maxDiffRows?: number;
}

/**
 * Compares a replayed result with the recorded one. Values are compared as the text the server sent,
 * so a recording and a replay compare like for like. An error matches when the SQLSTATE is the same.
 */
export function compareResults(
  recorded: ComparableResult,
  actual: ComparableResult,
  options: CompareOptions = {},
): { verdict: Verdict; diff?: string } {
  if (recorded.error || actual.error) {
    if (recorded.error && actual.error) {
      return recorded.error.code === actual.error.code
        ? { verdict: 'error-matched' }
        : {
            verdict: 'new-error',
            diff: `error: expected ${describeError(recorded.error)}, got ${describeError(actual.error)}`,
          };
    }
    return actual.error
      ? { verdict: 'new-error', diff: `error: expected success, got ${describeError(actual.error)}` }
      : {
          verdict: 'mismatched',
          diff: `error: expected ${describeError(recorded.error!)}, the query succeeded`,
        };
  }
  const ignore = new Set(options.ignoreColumns ?? []);
  const expected = project(recorded, ignore, options.unordered);
  const got = project(actual, ignore, options.unordered);
  const lines: string[] = [];
  if (JSON.stringify(expected.columns) !== JSON.stringify(got.columns)) {
    lines.push(`columns: expected ${JSON.stringify(expected.columns)}, got ${JSON.stringify(got.columns)}`);
  }
  if (recorded.commandTag !== actual.commandTag) {
    lines.push(
      `command tag: expected ${JSON.stringify(recorded.commandTag)}, got ${JSON.stringify(actual.commandTag)}`,
    );
  }
  const maxDiffRows = options.maxDiffRows ?? 3;
  let shown = 0;
  const count = Math.max(expected.rows.length, got.rows.length);
  for (let index = 0; index < count && shown < maxDiffRows; index += 1) {
    const want = expected.rows[index];
    const have = got.rows[index];
    if (want !== undefined && have !== undefined && want === have) continue;
    lines.push(`row ${index + 1}: expected ${want ?? '(none)'}, got ${have ?? '(none)'}`);
    shown += 1;
  }
  if (expected.rows.length !== got.rows.length) {
    lines.push(`rows: expected ${expected.rows.length}, got ${got.rows.length}`);
  }
  return lines.length === 0 ? { verdict: 'matched' } : { verdict: 'mismatched', diff: lines.join('\n') };
}

/** Drops ignored columns and turns each row into its JSON text (sorted when unordered). */
function project(
  result: ComparableResult,
  ignore: Set<string>,
  unordered = false,
): { columns: string[]; rows: string[] } {
  const keep = result.columns.map((column) => !ignore.has(column));
  const columns = result.columns.filter((_, index) => keep[index]);
  const rows = result.rows.map((row) => JSON.stringify(row.filter((_, index) => keep[index] ?? true)));
  if (unordered) rows.sort();
  return { columns, rows };
}

function describeError(error: QueryError): string {
  return `${error.code} (${error.message})`;
}
