import type { RecordedRedactionRule } from '../generated/session.js';
import { defaultHashPrefix, hashValue } from '../redaction/index.js';

/**
 * Redaction of recorded result cells (SPEC §7 "redaction rules apply to recorded values"). A column
 * whose name is one of a rule's `fields` gets the rule's action; the rule's `table` is ignored because a
 * result column does not say which table it came from. Cells are the server's text, so the actions
 * produce text: `empty` → "", `null` → null, `empty_object` → "{}", `empty_array` → "[]", `hash` →
 * prefix + first 12 hex chars of sha256(text) (SPEC §4; null and "" stay as they are).
 */
export function redactRows(
  columns: string[],
  rows: (string | null)[][],
  rules: RecordedRedactionRule[],
): (string | null)[][] {
  if (rules.length === 0) return rows;
  const actions = columns.map((column) => rules.findLast((rule) => rule.fields.includes(column)));
  if (actions.every((rule) => rule === undefined)) return rows;
  return rows.map((row) =>
    row.map((cell, index) => (actions[index] ? redactCell(cell, actions[index]) : cell)),
  );
}

export function redactCell(value: string | null, rule: RecordedRedactionRule): string | null {
  switch (rule.action) {
    case 'empty':
      return '';
    case 'null':
      return null;
    case 'empty_object':
      return '{}';
    case 'empty_array':
      return '[]';
    case 'hash':
      if (value === null || value === '') return value;
      return hashValue(value, rule.prefix ?? defaultHashPrefix);
  }
}
