import type { ParsedRedactionRule } from '../manifest/index.js';
import { hashValue } from './hash.js';

export type RedactionAction = ParsedRedactionRule['action'];

/**
 * The one redaction switch, for capsule rows (src/redaction/row-redactor.ts) and recorded result cells
 * (src/session/redact-cells.ts). null and "" are left as they are whatever the action, as the original
 * tool did: capsules and recordings must not differ from it. `empty_object` and `empty_array` give JSON
 * values; a caller holding text serialises them.
 */
export function redactValue(action: RedactionAction, prefix: string, value: unknown): unknown {
  if (value === null || value === '') return value;
  switch (action) {
    case 'empty':
      return '';
    case 'null':
      return null;
    case 'empty_object':
      return {};
    case 'empty_array':
      return [];
    case 'hash':
      return hashValue(value, prefix);
  }
}
