// Identifiers are validated by the manifest schema (schemas/); this module only quotes them.

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
