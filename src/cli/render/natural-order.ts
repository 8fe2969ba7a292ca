const integer = /^-?\d+$/;

/**
 * Compares two shown values so integers sort as numbers (`16` before `119`) and everything else by code
 * unit, as the capsule's own order does. Integers sort before non-integers; BigInt keeps huge keys exact.
 */
export function compareShownValues(a: string, b: string): number {
  const aInt = integer.test(a);
  const bInt = integer.test(b);
  if (aInt && bInt) {
    const difference = BigInt(a) - BigInt(b);
    return difference === 0n ? 0 : difference < 0n ? -1 : 1;
  }
  if (aInt !== bInt) return aInt ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Graph entries for display: by each subject key in turn, numeric-aware. The capsule keeps its order. */
export function sortGraphForDisplay<T extends Record<string, unknown>>(
  entries: readonly T[],
  keys: string[],
): T[] {
  return [...entries].sort((a, b) => {
    for (const key of keys) {
      const order = compareShownValues(String(a[key] ?? ''), String(b[key] ?? ''));
      if (order !== 0) return order;
    }
    return 0;
  });
}
