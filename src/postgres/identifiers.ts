/**
 * The one rule for how a manifest names a table, and the only way identifiers enter generated SQL.
 *
 * A manifest table name is written as SQL writes a table name (and as `to_regclass` reads it): one or two
 * dot-separated parts (`schema.table`); an unquoted part (`orders`, `Tickets`) is folded to lower case,
 * as Postgres folds it; a double-quoted part (`"Items"`, `"Order Lines"`, `""` for a quote) is exact.
 * Unlike in SQL, a keyword is a name here: `user` is the table user, not `current_user`, and `order` is
 * the table order. replay-env never splices the name as written: every statement it builds quotes each
 * resolved part (`quoteTable`), so `tickets` → `"tickets"`, `Tickets` → `"tickets"`, `"Items"` → `"Items"`,
 * `user` → `"user"`, `billing."Invoice Lines"` → `"billing"."Invoice Lines"`.
 *
 * The original tool spliced names unquoted, so every name it could load (plain, unreserved) means the same
 * table under this rule; the names it could not (keywords, mixed case, spaces) now work.
 */

/** Postgres truncates longer identifiers (NAMEDATALEN - 1 bytes); refusing them avoids a silent rename. */
const maxIdentifierBytes = 63;

/** A table name resolved to what Postgres stores: each part exact, no quotes. */
export interface TableName {
  schema: string | undefined;
  name: string;
}

/** Double-quotes one identifier part for SQL. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * A manifest table name as quoted SQL: `public.orders` → `"public"."orders"`, `Items` → `"items"`,
 * `"Items"` → `"Items"`, `user` → `"user"`. Throws on a name the manifest loader would have refused.
 */
export function quoteTable(name: string): string {
  const parsed = parseTableName(name);
  if (typeof parsed === 'string') throw new Error(`invalid table name ${JSON.stringify(name)}: ${parsed}`);
  return (parsed.schema === undefined ? '' : `${quoteIdent(parsed.schema)}.`) + quoteIdent(parsed.name);
}

/** Resolves a manifest table name by the rule above; returns a problem (one phrase) when it is not one. */
export function parseTableName(text: string): TableName | string {
  const parts: string[] = [];
  let i = 0;
  while (i <= text.length) {
    let part: string;
    if (text[i] === '"') {
      let j = i + 1;
      part = '';
      for (;;) {
        if (j >= text.length) return 'a double quote is not closed';
        if (text[j] === '"' && text[j + 1] === '"') {
          part += '"';
          j += 2;
        } else if (text[j] === '"') break;
        else part += text[j++];
      }
      if (part === '') return 'a quoted part is empty ("")';
      i = j + 1;
    } else {
      const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
      if (!match) return 'each part is a plain identifier (letters, digits, _) or a "double-quoted" name';
      part = match[0].toLowerCase();
      i += match[0].length;
    }
    parts.push(part);
    if (i === text.length) break;
    if (text[i] !== '.') return 'parts are separated by a dot, nothing else';
    i += 1;
  }
  if (parts.length > 2) return 'at most schema.table (two parts)';
  return parts.length === 2 ? { schema: parts[0], name: parts[1]! } : { schema: undefined, name: parts[0]! };
}

/**
 * Why a manifest may not use this table name, or undefined. Beyond the syntax: a part longer than
 * Postgres keeps (it would silently truncate it), and control characters or comment markers, refused
 * because the name is also a label inside generated SQL comments (`/* tables[<name>] *\/`), which they
 * could end or nest.
 */
export function tableNameProblem(text: string): string | undefined {
  const parsed = parseTableName(text);
  if (typeof parsed === 'string') return parsed;
  for (const part of parsed.schema === undefined ? [parsed.name] : [parsed.schema, parsed.name]) {
    if (Buffer.byteLength(part) > maxIdentifierBytes) {
      return `a part is longer than ${maxIdentifierBytes} bytes (Postgres would truncate it)`;
    }
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(part)) return 'a part contains a control character';
    if (part.includes('/*') || part.includes('*/')) return 'a part contains /* or */';
  }
  return undefined;
}

/**
 * How a manifest names the table Postgres stores as `schema.name` (exact parts): a part that reads as
 * itself unquoted (lower-case letters, digits, `_`) stays plain, any other is double-quoted —
 * `Items` → `"Items"`, `Order Lines` → `"Order Lines"`, `user` → `user` (a keyword is a name here).
 * parseTableName(manifestTableName(s, n)) gives back {s, n}.
 */
export function manifestTableName(schema: string | undefined, name: string): string {
  const part = (text: string) => (/^[a-z_][a-z0-9_]*$/.test(text) ? text : quoteIdent(text));
  return schema === undefined ? part(name) : `${part(schema)}.${part(name)}`;
}

/** Whether two manifest names certainly name the same table (same resolved parts; schema as written). */
export function sameTableName(a: string, b: string): boolean {
  const x = parseTableName(a);
  const y = parseTableName(b);
  if (typeof x === 'string' || typeof y === 'string') return a === b;
  return x.schema === y.schema && x.name === y.name;
}

/**
 * A SQL string literal, for the rare places a value cannot be a bind parameter (COPY options). With a
 * backslash, an escape string: read the same whatever standard_conforming_strings is.
 */
export function quoteLiteral(value: string): string {
  const quoted = value.replace(/'/g, "''");
  return value.includes('\\') ? `E'${quoted.replace(/\\/g, '\\\\')}'` : `'${quoted}'`;
}
