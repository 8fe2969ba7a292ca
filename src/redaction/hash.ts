import * as crypto from 'node:crypto';

import { serdeJsonText } from './serde-json-text.js';

/** The default prefix of a `hash` redaction (SPEC §4). */
export const defaultHashPrefix = 'replay-';

/**
 * `prefix + first 12 hex chars of sha256(value)` (SPEC §4), where value is the string itself or, for
 * anything else, its JSON text exactly as the original tool's serde_json printed it (see
 * serde-json-text.ts), so hashes of numbers, objects and arrays match the original byte for byte.
 * The redaction engine leaves null and "" untouched before calling this; this function hashes whatever
 * it is given.
 *
 * @example hashValue('prod-user-123', 'replay-user-') === 'replay-user-3376300c1af8'
 */
export function hashValue(value: unknown, prefix: string = defaultHashPrefix): string {
  const text = typeof value === 'string' ? value : serdeJsonText(value);
  return prefix + sha256Hex12(text);
}

/**
 * First 12 hex chars of sha256 over a string (as UTF-8) or bytes. `crypto.hash` (Node ≥ 20.12) is the
 * one-shot form, several times cheaper per call than a Hash object on short inputs — this runs once per
 * redacted value (issue #16); older Node falls back to createHash.
 */
export function sha256Hex12(data: string | Uint8Array): string {
  const digest =
    typeof crypto.hash === 'function'
      ? crypto.hash('sha256', data, 'hex')
      : crypto.createHash('sha256').update(data).digest('hex');
  return digest.slice(0, 12);
}
