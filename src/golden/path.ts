/** A location inside a golden evidence document: object keys and array indexes. */
export type EvidencePath = Array<string | number>;

const plainKey = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `probes.ticket-api.body.items[0].id`; keys that are not plain are quoted: `probes["a.b"]`. */
export function formatPath(path: EvidencePath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (plainKey.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/**
 * Parses an ignore path: dot-separated keys, `[n]` indexes, `["quoted key"]`, `*` (any one segment) and
 * `**` (any number of segments, none included). Returns undefined when the text is not a path.
 */
export function parsePattern(text: string): string[] | undefined {
  const segments: string[] = [];
  const token = /\.?([A-Za-z0-9_*-]+)|\[(\d+|\*)\]|\[("(?:[^"\\]|\\.)*")\]/y;
  let index = 0;
  while (index < text.length) {
    token.lastIndex = index;
    const match = token.exec(text);
    if (!match || (index === 0 && text.startsWith('.'))) return undefined;
    segments.push(match[1] ?? match[2] ?? (JSON.parse(match[3]!) as string));
    index = token.lastIndex;
  }
  return segments.length > 0 ? segments : undefined;
}

/** Whether a concrete path matches a parsed pattern. */
export function matchesPattern(path: EvidencePath, pattern: string[]): boolean {
  const match = (p: number, s: number): boolean => {
    if (p === pattern.length) return s === path.length;
    const want = pattern[p]!;
    if (want === '**') {
      for (let skip = s; skip <= path.length; skip += 1) if (match(p + 1, skip)) return true;
      return false;
    }
    if (s === path.length) return false;
    return (want === '*' || want === String(path[s])) && match(p + 1, s + 1);
  };
  return match(0, 0);
}

/** Whether a path lies under (or at) any of the patterns — ignoring a node ignores everything below it. */
export function ignoredBy(path: EvidencePath, patterns: string[][]): boolean {
  return patterns.some((pattern) => {
    for (let length = 1; length <= path.length; length += 1) {
      if (matchesPattern(path.slice(0, length), pattern)) return true;
    }
    return false;
  });
}
