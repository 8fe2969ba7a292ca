import type { RecordedRedactionRule } from '../generated/session.js';
import { defaultHashPrefix, redactValue } from '../redaction/index.js';

/**
 * Redaction of recorded result cells (SPEC §7 "redaction rules apply to recorded values"). A column
 * whose name is one of a rule's `fields` gets the rule's action; the rule's `table` is ignored because a
 * result column does not say which table it came from. Cells are the server's text, so the actions
 * produce text: `empty` → "", `null` → null, `empty_object` → "{}", `empty_array` → "[]", `hash` →
 * prefix + first 12 hex chars of sha256(text) (SPEC §4). The switch is the capsule rows' one
 * (src/redaction/redact-value.ts), so null and "" stay as they are whatever the action.
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

function redactCell(value: string | null, rule: RecordedRedactionRule): string | null {
  const redacted = redactValue(rule.action, rule.prefix ?? defaultHashPrefix, value);
  // Cells are text: the empty object and array become their JSON text.
  return typeof redacted === 'object' && redacted !== null
    ? JSON.stringify(redacted)
    : (redacted as string | null);
}
