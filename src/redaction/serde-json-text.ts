import { isLosslessNumber } from 'lossless-json';

/**
 * The JSON text the original Rust tool hashes for a non-string value: serde_json's compact
 * serialisation (keys in document order — it was built with `preserve_order`), where a number that is
 * not a 64-bit integer went through f64 and is printed the way the `ryu` crate prints it
 * (`19.90` → `19.9`, `5.00` → `5.0`, `1e16` → `1e16`). Matching it keeps `hash` redaction of
 * numbers, objects and arrays byte-identical to the original, not just of strings.
 */
export function serdeJsonText(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return serdeNumberText(String(value));
  if (typeof value === 'bigint') return serdeNumberText(value.toString());
  if (isLosslessNumber(value)) return serdeNumberText(value.value);
  if (Array.isArray(value)) return `[${value.map(serdeJsonText).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${serdeJsonText(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const u64Max = 18446744073709551615n;
const i64Min = -9223372036854775808n;

/** A JSON number's text as serde_json re-prints it: integers that fit u64/i64 verbatim, the rest as f64. */
export function serdeNumberText(text: string): string {
  if (/^-?\d+$/.test(text)) {
    const integer = BigInt(text);
    if (integer <= u64Max && integer >= i64Min) return integer.toString();
  }
  return ryuFormat(Number(text));
}

/** `ryu`'s pretty f64 format: shortest round-trip digits, `.0` on integral values, `e` beyond 1e16. */
export function ryuFormat(value: number): string {
  if (!Number.isFinite(value)) return 'null';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const sign = value < 0 ? '-' : '';
  // toExponential() without an argument yields the shortest digits that round-trip, as ryu does.
  const [mantissa, exponentText] = Math.abs(value).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const length = digits.length;
  const kk = Number(exponentText) + 1; // position of the decimal point relative to the digits
  const e = kk - length;
  let body: string;
  if (e >= 0 && kk <= 16) body = `${digits}${'0'.repeat(e)}.0`;
  else if (kk > 0 && kk <= 16) body = `${digits.slice(0, kk)}.${digits.slice(kk)}`;
  else if (kk > -5 && kk <= 0) body = `0.${'0'.repeat(-kk)}${digits}`;
  else if (length === 1) body = `${digits}e${kk - 1}`;
  else body = `${digits[0]}.${digits.slice(1)}e${kk - 1}`;
  return sign + body;
}
