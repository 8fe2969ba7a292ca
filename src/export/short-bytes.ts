/**
 * Copies and comparisons of keys (a few bytes to tens of bytes) in the closure's key path: a byte loop
 * for short ranges, the native Buffer call beyond. Each native `copy`/`compare` costs a call into C++
 * whatever the length: for 500,000 integer keys they were the largest single item of the key handling's
 * CPU (`node --cpu-prof bench/closure-keys-cpu.js`, docs/performance.md).
 */

/** Ranges up to this many bytes go by the loop. */
const loopBytes = 48;

/** Copies `src[from, to)` into `dst` at `at`; returns the bytes copied. */
export function copyBytes(src: Buffer, from: number, to: number, dst: Buffer, at: number): number {
  const length = to - from;
  if (length > loopBytes) return src.copy(dst, at, from, to);
  for (let i = 0; i < length; i += 1) dst[at + i] = src[from + i]!;
  return length;
}

/** Whether `a[aFrom, aFrom + length)` and `b[bFrom, bFrom + length)` hold the same bytes. */
export function sameBytes(a: Buffer, aFrom: number, b: Buffer, bFrom: number, length: number): boolean {
  if (length > loopBytes) return a.compare(b, bFrom, bFrom + length, aFrom, aFrom + length) === 0;
  for (let i = 0; i < length; i += 1) if (a[aFrom + i] !== b[bFrom + i]) return false;
  return true;
}
