import type { TableInfo } from '../postgres/catalog.js';
import { quoteIdent, quoteTable } from '../postgres/identifiers.js';
import { canonicalJson, jsonbString, numericText } from './canonical-json.js';
import type { Sql } from './sql.js';

/**
 * Record text: the digest of a table copied straight into its target (load-direct.ts) hashes each row
 * as PostgreSQL's `record_out` prints it (`t::text`: `(1,acct-1,"{""a"": 1}",…)`), which costs the
 * server about a sixth of printing the row as jsonb (docs/materialize.md "Value verification"). The
 * client builds the same text from the capsule row in the pass that converts it to COPY text
 * (json-to-copy.ts): each value's output text, derived from the value as `to_jsonb` wrote it, per the
 * column's type (below). A value whose text the server would print differently from this prediction
 * makes the digest differ, and the exact comparison then decides (verify-values.ts): a wrong
 * prediction costs time, never a wrong "verified".
 *
 * How a column's output text follows from its capsule value (`to_jsonb` prints most types with their
 * output function, so the JSON string is the output text):
 * - `same`: the JSON string's content, or the number's digits (numeric/integers);
 * - `bool`: `true`/`false` → `t`/`f`;
 * - `timestamp`/`timestamptz`: the XSD form `to_jsonb` writes → the ISO DateStyle form (`T` → space,
 *   `+00:00` → `+00`); the digest query runs with `DateStyle = ISO` and `TimeZone = UTC`;
 * - `json`: the JSON text as sent (json keeps it); `jsonb`: its canonical jsonb text;
 * - `float`: float8out's shortest form is not predicted: the server prints `to_jsonb(column)` for it
 *   and the client the value's canonical jsonb text.
 */
export type OutputKind = 'same' | 'bool' | 'timestamp' | 'timestamptz' | 'json' | 'jsonb' | 'float';

/** The output kind of a (domain-resolved) base type. */
export function outputKind(typeOid: number): OutputKind {
  switch (typeOid) {
    case 16:
      return 'bool';
    case 700:
    case 701:
      return 'float';
    case 1114:
      return 'timestamp';
    case 1184:
      return 'timestamptz';
    case 114:
      return 'json';
    case 3802:
      return 'jsonb';
    default:
      return 'same';
  }
}

// record_out quotes a field holding these (isspace in the C locale) and doubles `"` and `\`.
const recordSpecial = /["\\(),\t\n\v\f\r ]/;
const recordDoubled = /["\\]/g;

/** A field as record_out prints it; `null` is SQL NULL (nothing between the commas). */
export function recordField(text: string | null): string {
  if (text === null) return '';
  if (text !== '' && !recordSpecial.test(text)) return text;
  return `"${text.replace(recordDoubled, '$&$&')}"`;
}

// array_out quotes an element holding these (or empty, or the word NULL) and backslash-escapes `"`, `\`.
const arraySpecial = /["\\{},\t\n\v\f\r ]/;
const arrayEscaped = /["\\]/g;

/** An array element as array_out prints it (comma-delimited types). */
export function arrayElement(text: string): string {
  if (text !== '' && !arraySpecial.test(text) && !(text.length === 4 && text.toUpperCase() === 'NULL'))
    return text;
  return `"${text.replace(arrayEscaped, '\\$&')}"`;
}

const xsdDateTime = /^(\d{4,}-\d\d-\d\d)T(\d\d:\d\d:\d\d(?:\.\d+)?)([+-]\d\d)?(:\d\d)?(:\d\d)?( BC)?$/;

/**
 * A timestamp as `to_jsonb` writes it (XSD: `2026-01-05T10:00:00.5+00:00`) in ISO DateStyle
 * (`2026-01-05 10:00:00.5+00`): the zone's minutes only when not zero. Anything else (infinity) as is.
 */
export function isoDateTime(xsd: string): string {
  const match = xsdDateTime.exec(xsd);
  if (!match) return xsd;
  const [, date, time, hours = '', minutes = '', seconds = '', era = ''] = match;
  const zone = seconds !== '' ? hours + minutes + seconds : minutes === ':00' ? hours : hours + minutes;
  return `${date} ${time}${zone}${era}`;
}

/** The output text of a JSON string value for a column of this kind. */
export function stringOutput(kind: OutputKind, text: string): string {
  if (kind === 'timestamptz' || kind === 'timestamp') return isoDateTime(text);
  if (kind === 'float') return jsonbString(text);
  return text;
}

/** The output text of a JSON number (its digits; `-0` and the like as numeric prints them). */
export function numberOutput(span: string): string {
  return span.charCodeAt(0) === 45 && span.charCodeAt(1) === 48 ? numericText(span) : span;
}

/** The output text of a json/jsonb value's JSON text; `canonical`: the text is already jsonb's. */
export function jsonOutput(kind: OutputKind, span: string, canonical: boolean): string {
  return kind === 'json' || canonical ? span : canonicalJson(span);
}

/** A written column of a directly copied table, as the digest reads it. */
export interface RecordColumn {
  name: string;
  output: OutputKind;
}

/** The digest's view of a directly copied table: its written columns, and whether that is all of them. */
export interface RecordShape {
  columns: RecordColumn[];
  allWritten: boolean;
}

/** The record shape of a table copied with these columns (in table order, as column-check.ts gives them). */
export function recordColumns(
  info: TableInfo,
  written: readonly { name: string; kind: { type: string; output?: OutputKind } }[],
): RecordShape {
  const columns = written.map((column) => ({
    name: column.name,
    output: column.kind.output ?? (column.kind.type === 'json' ? 'jsonb' : 'same'),
  }));
  const allWritten =
    columns.length === info.columns.length &&
    columns.every((column, position) => column.name === info.columns[position]!.name);
  return { columns, allWritten };
}

/**
 * A table's row (alias `t`) as the digest prints it: the whole row when every column was written and
 * none is a float, else a row of the written columns (floats as jsonb).
 *
 * @example recordRowSql({ columns: [{ name: 'id', output: 'same' }, { name: 'f', output: 'float' }], allWritten: false })
 *   === 'row(t."id", to_jsonb(t."f"))'
 */
export function recordRowSql({ columns, allWritten }: RecordShape): string {
  if (allWritten && columns.every((column) => column.output !== 'float')) return 't';
  const fields = columns.map((column) =>
    column.output === 'float' ? `to_jsonb(t.${quoteIdent(column.name)})` : `t.${quoteIdent(column.name)}`,
  );
  return `row(${fields.join(', ')})`;
}

/**
 * The digest of a table's rows as record text (a table that was empty before the load).
 *
 * @example
 * select count(*)::bigint as rows, coalesce(sum(hashtextextended((t)::text collate "C", 0)), 0)::text as sum
 *   from "events" t
 */
export function recordDigestSql(table: string, shape: RecordShape): Sql {
  return {
    text: [
      `/* tables[${table}] verify values */ select count(*)::bigint as rows, coalesce(sum(hashtextextended((${recordRowSql(shape)})::text collate "C", 0)), 0)::text as sum`,
      `  from ${quoteTable(table)} t`,
    ].join('\n'),
    values: [],
  };
}
