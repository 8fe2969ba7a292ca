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
    `verified: ${result.verified ? 'yes' : 'no'} (capsule integrity: ${result.integrity})`,
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
