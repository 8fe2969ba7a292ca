import { lossyList } from '../../capsule/lossy-values.js';
import type { ExplainResult, MaterializePlan, MaterializeResult } from '../../services/materialize.js';

/** Plain aligned text: one line per table with capsule rows, deleted and loaded counts. */
export function renderMaterialize(result: MaterializeResult, profile: boolean): string {
  const subject = Object.entries(result.subject)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
  const tables = Object.keys(result.rowCounts);
  const width = Math.max(5, ...tables.map((table) => table.length));
  const lines = [
    `materialized ${result.app} capsule into ${result.database} (${result.strategy}, ${result.durationMs} ms)`,
    `subject: ${subject}`,
    `${'table'.padEnd(width)}  ${'capsule'.padStart(8)}  ${'deleted'.padStart(8)}  ${'loaded'.padStart(8)}`,
    ...tables.map(
      (table) =>
        `${table.padEnd(width)}  ${String(result.rowCounts[table]).padStart(8)}  ${String(result.deleted[table] ?? '-').padStart(8)}  ${String(result.loaded[table] ?? 0).padStart(8)}`,
    ),
    ...rewrittenLine(result),
    ...(result.triggers?.firing.length
      ? [
          `warning: user triggers fired during the load on ${result.triggers.firing.join(', ')} (--keep-triggers, or the replay role does not own them); they may have changed loaded values`,
        ]
      : []),
    `verified: ${result.verified ? 'yes' : 'no'} (capsule integrity: ${result.integrity}${differences(result)})`,
  ];
  if (profile) {
    lines.push(
      `phases: ${Object.entries(result.phases)
        .map(([phase, ms]) => `${phase} ${ms} ms`)
        .join(', ')}`,
    );
  }
  return lines.join('\n');
}

export function renderPlan(plan: MaterializePlan): string {
  const lines = [`-- materialize ${plan.app} (${plan.strategy}); nothing is executed`];
  for (const statement of plan.statements) {
    lines.push(`-- ${statement.label}`);
    if (statement.values.length > 0) {
      statement.values.forEach((value, index) =>
        lines.push(`-- $${index + 1} = ${typeof value === 'string' ? value : JSON.stringify(value)}`),
      );
    }
    lines.push(`${statement.sql};`, '');
  }
  return lines.join('\n');
}

export function renderExplain(result: ExplainResult): string {
  const lines = [
    `-- materialize ${result.app} into ${result.database}: plans (rolled back, nothing changed)`,
  ];
  for (const plan of result.plans) lines.push('', `-- ${plan.label}`, plan.plan);
  return lines.join('\n');
}

/** `rewritten: 12 values (tickets 4, comments 8)`, only when the subject was rewritten. */
function rewrittenLine(result: MaterializeResult): string[] {
  const entries = Object.entries(result.rewritten ?? {}).filter(([, n]) => n > 0);
  if (entries.length === 0) return [];
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  return [
    `rewritten: ${total} ${total === 1 ? 'value' : 'values'} (${entries.map(([table, n]) => `${table} ${n}`).join(', ')})`,
  ];
}

/**
 * `; values differ from the capsule: film 2 rows, customer 1 row` when value verification found
 * differences, and `; array shapes not verified: docs 3 rows` for multi-dimensional json/jsonb arrays.
 */
function differences(result: MaterializeResult): string {
  const rows = (counts: Record<string, number> | undefined) =>
    Object.entries(counts ?? {})
      .map(([table, n]) => `${table} ${n} ${n === 1 ? 'row' : 'rows'}`)
      .join(', ');
  const differing = rows(result.valueDifferences);
  const nested = rows(result.nestedJsonArrays);
  const lossy = Object.keys(result.lossy ?? {}).length > 0 ? lossyList(result.lossy) : '';
  return [
    differing ? `; values differ from the capsule: ${differing}` : '',
    lossy
      ? `; not verified, values the capsule cannot hold exactly (a JSON null in json/jsonb, written like SQL NULL; an array not indexed from 1, written from 1): ${lossy}`
      : '',
    nested
      ? `; array shapes not verified (json/jsonb arrays of more than one dimension, which the capsule writes like arrays of JSON arrays): ${nested}`
      : '',
  ].join('');
}
