import type { GoldenDiff } from '../generated/trace.js';

const maxValueChars = 120;

/**
 * One difference as one line: `probe ticket-api: probes.ticket-api.body.status: "open" → "closed"`.
 * Used in the JUnit failure text and the command output; values are JSON, long ones cut.
 */
export function formatDiff(diff: GoldenDiff): string {
  const side = (present: boolean, value: unknown): string => (present ? shortJson(value) : '(absent)');
  return `${diff.where}: ${diff.path}: ${side('golden' in diff, diff.golden)} → ${side('actual' in diff, diff.actual)}`;
}

function shortJson(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > maxValueChars ? `${text.slice(0, maxValueChars)}…` : text;
}
