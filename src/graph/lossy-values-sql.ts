/**
 * Values the capsule cannot hold exactly. A row is written as its JSON (`to_jsonb(t)`), which loses two
 * things a load cannot restore and a JSON comparison cannot see:
 * - a json or jsonb value that is the JSON `null` (top level, or an element of a json[]/jsonb[]) is
 *   written `null` like SQL NULL, and loads as SQL NULL;
 * - an array whose index does not start at 1 (`'[0:2]={1,2,3}'`) is written `[1, 2, 3]`, and loads
 *   starting at 1 (a different value: PostgreSQL's `=` compares the bounds).
 * So the export marks each row holding such a value: the row text is prefixed with 0x04 and the indexes
 * of those columns, `0x04 "0,2,"` — bytes the row's JSON (which starts with `{`, or with the redaction
 * marker 0x03) never begins with. The writer drops the prefix, counts the rows per column and records the
 * counts in the integrity trailer (`lossy`), where materialize finds them and does not claim the values
 * verified (docs/capsule-format.md).
 */
import { quoteIdent } from '../postgres/identifiers.js';

/**
 * A column whose values the capsule may not hold exactly (a domain as its base type): json/jsonb (JSON
 * null), arrays of them (JSON null elements, bounds), other arrays (bounds).
 */
export interface LossyColumn {
  name: string;
  type: 'json' | 'jsonb' | 'json[]' | 'jsonb[]' | 'array';
}

/** First byte of a row prefixed with the indexes of its lossy columns. */
export const lossyMarker = 0x04;

/**
 * The prefix expression for a row of `alias`: '' for a row whose `columns` hold nothing lossy (concat
 * skips NULLs), else chr(4) and each such column's index followed by a comma. A jsonb null is 12 bytes or
 * less (`pg_column_size`, no detoasting): only such values are compared, so a large document is not read
 * twice.
 *
 * @example
 * coalesce(chr(4) || nullif(concat(case when pg_column_size("t"."d") <= 12 and "t"."d" = 'null'::jsonb
 *   then '0,' end), ''), '')
 */
export function lossyPrefix(alias: string, columns: readonly LossyColumn[]): string | undefined {
  if (columns.length === 0) return undefined;
  const a = quoteIdent(alias);
  const tests = columns.map((column, index) => {
    const value = `${a}.${quoteIdent(column.name)}`;
    return `case when ${lossyTest(value, column.type)} then '${index},' end`;
  });
  return `coalesce(chr(4) || nullif(${concatAll(tests)}, ''), '')`;
}

/** concat() of `parts`, nested 90 at a time: a function takes at most 100 arguments (FUNC_MAX_ARGS). */
function concatAll(parts: readonly string[]): string {
  if (parts.length <= 90) return `concat(${parts.join(', ')})`;
  const groups: string[] = [];
  for (let at = 0; at < parts.length; at += 90) groups.push(concatAll(parts.slice(at, at + 90)));
  return concatAll(groups);
}

/** Whether `value` is (or, for an array, holds) what the capsule cannot write; NULL or false otherwise. */
function lossyTest(value: string, type: LossyColumn['type']): string {
  switch (type) {
    case 'jsonb':
      return `pg_column_size(${value}) <= 12 and ${value} = 'null'::jsonb`;
    case 'json':
      // json keeps its text (whitespace around `null` included); json_typeof lexes the first token only.
      return `json_typeof(${value}) = 'null'`;
    case 'jsonb[]':
      return `(${boundsTest(value)} or 'null'::jsonb = any(${value}))`;
    case 'json[]':
      return `(${boundsTest(value)} or exists (select from unnest(${value}) as e where json_typeof(e) = 'null'))`;
    case 'array':
      return boundsTest(value);
  }
}

/**
 * An array with an index not starting at 1, in any dimension (array_dims of `{}` is NULL: not lossy):
 * some `[` of its dimensions (`[1:3][0:2]`) not followed by `1:` (`[10:`, `[-1:` are not). One call: each
 * array function reads (detoasts) a large array again. Without a regular expression: on 700,000 rows of
 * a text[] column, the test `!~ '^(\[1:[0-9]+\])+$'` cost 0.3–0.4 s of server time (docs/performance.md,
 * nineteenth session).
 */
function boundsTest(value: string): string {
  return `strpos(replace(array_dims(${value}), '[1:', ''), '[') > 0`;
}
