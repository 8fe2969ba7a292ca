import { parse, stringify } from 'lossless-json';

import type { RowRedactor } from './row-redactor.js';

/**
 * Redacts one row given as JSON text and returns JSON text. Rows no rule can touch come back unchanged
 * (same string, no parse). Parsing and re-serializing go through lossless-json so numerics such as
 * `12345678901234567890.123456` or `19.90` keep their exact text.
 */
export function redactRowText(redactor: RowRedactor | undefined, rowText: string): string {
  if (!redactor || !redactor.mightApply(rowText)) return rowText;
  return stringify(redactor.redact(parse(rowText))) ?? 'null';
}
