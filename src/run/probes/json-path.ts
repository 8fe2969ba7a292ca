/**
 * Reads a dot path (`data.items.0.id`) from parsed JSON. Numeric segments index arrays; an empty path is
 * the whole document. Returns `found: false` when any segment is missing.
 */
export function valueAtPath(document: unknown, path: string): { found: boolean; value: unknown } {
  let current: unknown = document;
  for (const segment of path.split('.').filter((part) => part !== '')) {
    if (Array.isArray(current) && /^\d+$/.test(segment) && Number(segment) < current.length) {
      current = current[Number(segment)];
    } else if (
      current !== null &&
      typeof current === 'object' &&
      !Array.isArray(current) &&
      Object.hasOwn(current, segment)
    ) {
      current = (current as Record<string, unknown>)[segment];
    } else {
      return { found: false, value: undefined };
    }
  }
  return { found: true, value: current };
}
