/**
 * Where a JSON.parse failure happened, as 1-based line and column, from V8's "at position N" (or the end of
 * the text for "Unexpected end of JSON input"). V8 does not give a position for every message (an
 * unexpected token where a value belongs); then `undefined`, and the message alone is shown.
 */
export function jsonErrorPosition(
  text: string,
  message: string,
): { line: number; column: number } | undefined {
  const match = /at position (\d+)/.exec(message);
  const offset = match ? Number(match[1]) : /end of JSON input/.test(message) ? text.length : undefined;
  if (offset === undefined || offset > text.length) return undefined;
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line: before.split('\n').length, column: offset - lineStart + 1 };
}
