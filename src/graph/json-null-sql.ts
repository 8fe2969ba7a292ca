/**
 * JSON nulls the capsule cannot record. A json or jsonb column may hold the JSON value `null`, which is not
 * SQL NULL; the row's JSON (`to_jsonb(t)`) writes both as `null`, and a load reads `null` back as SQL NULL.
 * So the export marks each row holding a JSON null (top level, or an element of a json[]/jsonb[]) in such
 * a column: the row text is prefixed with 0x04 and the indexes of those columns, `0x04 "0,2,"` — bytes the
 * row's JSON (which starts with `{`, or with the redaction marker 0x03) never begins with. The writer drops
 * the prefix, counts the rows per column and records the counts in the integrity trailer (`jsonNulls`),
 * where materialize finds them and does not claim the values verified (docs/capsule-format.md).
 */
import { quoteIdent } from '../postgres/identifiers.js';

/** A json/jsonb column of a table (a domain as its base type), as closure and export read it. */
export interface JsonColumn {
  name: string;
  type: 'json' | 'jsonb' | 'json[]' | 'jsonb[]';
}

/** First byte of a row prefixed with the indexes of its JSON-null columns. */
export const jsonNullMarker = 0x04;

/**
 * The prefix expression for a row of `alias`: '' for a row with no JSON null in `columns` (concat skips
 * NULLs), else chr(4) and each such column's index followed by a comma. A jsonb null is 12 bytes or less
 * (`pg_column_size`, no detoasting): only such values are compared, so a large document is not read twice.
 *
 * @example
 * coalesce(chr(4) || nullif(concat(case when pg_column_size("t"."d") <= 12 and "t"."d" = 'null'::jsonb
 *   then '0,' end), ''), '')
 */
export function jsonNullPrefix(alias: string, columns: readonly JsonColumn[]): string | undefined {
  if (columns.length === 0) return undefined;
  const a = quoteIdent(alias);
  const tests = columns.map((column, index) => {
    const value = `${a}.${quoteIdent(column.name)}`;
    return `case when ${jsonNullTest(value, column.type)} then '${index},' end`;
  });
  return `coalesce(chr(4) || nullif(concat(${tests.join(', ')}), ''), '')`;
}

/** Whether `value` is (or, for an array, holds) a JSON null; NULL or false otherwise. */
function jsonNullTest(value: string, type: JsonColumn['type']): string {
  switch (type) {
    case 'jsonb':
      return `pg_column_size(${value}) <= 12 and ${value} = 'null'::jsonb`;
    case 'json':
      // json keeps its text (whitespace around `null` included); json_typeof lexes the first token only.
      return `json_typeof(${value}) = 'null'`;
    case 'jsonb[]':
      return `'null'::jsonb = any(${value})`;
    case 'json[]':
      return `exists (select from unnest(${value}) as e where json_typeof(e) = 'null')`;
  }
}
