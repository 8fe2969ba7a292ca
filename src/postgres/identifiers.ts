/** A plain SQL identifier: what the manifest may use for subject keys, table names and aliases. */
export const plainIdentifier = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A table name, optionally schema-qualified (`public.orders`). */
export const tableIdentifier = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

export function isPlainIdentifier(text: string): boolean {
  return plainIdentifier.test(text) && text.length <= 63;
}

/** Double-quotes one identifier part for SQL. The only way identifiers enter generated SQL. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes a possibly schema-qualified table name part by part: `public.orders` → `"public"."orders"`. */
export function quoteTable(name: string): string {
  return name.split('.').map(quoteIdent).join('.');
}

/** A SQL string literal, for the rare places a value cannot be a bind parameter (COPY options). */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
