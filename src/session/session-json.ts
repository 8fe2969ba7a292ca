/**
 * One session event in the session file's layout, the original tool's (seeds/session-proxy-walkthrough.txt):
 * an object has one key per line, indented two spaces a level; an array of plain values (`columns`, one
 * row) stays on one line. JSON.stringify(…, null, 2) put every cell of every row on its own line: seven
 * times the bytes of the journal on a 6-column result, and seven times the time to finalise it.
 * `indent` is the indentation of the line the value starts on.
 */
export function formatSessionValue(value: unknown, indent: string): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every(isPlain)) return `[${value.map((item) => JSON.stringify(item) ?? 'null').join(', ')}]`;
    return `[\n${value.map((item) => inner + formatSessionValue(item, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value).filter(([, item]) => item !== undefined);
  if (entries.length === 0) return '{}';
  const lines = entries.map(
    ([key, item]) => `${inner}${JSON.stringify(key)}: ${formatSessionValue(item, inner)}`,
  );
  return `{\n${lines.join(',\n')}\n${indent}}`;
}

function isPlain(item: unknown): boolean {
  return item === null || typeof item !== 'object';
}
