import type { JudgeResult, MaterializationEvidence } from './types.js';

/** Materialization integrity: the replay database holds exactly the capsule's rows, per table. */
export function judgeMaterializationIntegrity(evidence: MaterializationEvidence): JudgeResult {
  const id = 'materialization_integrity';
  if (evidence.status === 'skipped') return { id, verdict: 'warn', reasons: [evidence.reason] };
  if (evidence.status === 'failed') {
    return { id, verdict: 'fail', reasons: [`materialization failed: ${evidence.message}`] };
  }
  const mismatches = Object.entries(evidence.rowCounts)
    .filter(([table, rows]) => (evidence.loaded[table] ?? -1) !== rows)
    .map(
      ([table, rows]) =>
        `${table}: capsule has ${rows} ${rows === 1 ? 'row' : 'rows'}, replay database ${evidence.loaded[table] ?? 'none'}`,
    );
  const differing = Object.entries(evidence.valueDifferences ?? {})
    .filter(([, n]) => n > 0)
    .map(
      ([table, n]) =>
        `${table}: ${n} ${n === 1 ? 'row has' : 'rows have'} values in the replay database that differ from the capsule`,
    );
  mismatches.push(...differing);
  for (const [table, n] of Object.entries(evidence.nestedJsonArrays ?? {}))
    if (n > 0)
      mismatches.push(
        `${table}: ${n} ${n === 1 ? 'row holds' : 'rows hold'} json/jsonb arrays of more than one dimension, whose shape the capsule cannot record (not verified)`,
      );
  for (const [table, columns] of Object.entries(evidence.lossy ?? {}))
    for (const [column, n] of Object.entries(columns))
      mismatches.push(
        `${table}.${column}: ${n} ${n === 1 ? 'row' : 'rows'} held a value the capsule cannot write exactly (a JSON null, or an array not indexed from 1): loaded changed, not verified`,
      );
  if (mismatches.length > 0) return { id, verdict: 'fail', reasons: mismatches };
  if (!evidence.verified)
    return { id, verdict: 'fail', reasons: ['row counts were not verified after loading'] };
  const rows = Object.values(evidence.rowCounts).reduce((sum, n) => sum + n, 0);
  return {
    id,
    verdict: 'pass',
    reasons: [
      `${rows} ${rows === 1 ? 'row' : 'rows'} in ${Object.keys(evidence.rowCounts).length} tables match the capsule`,
    ],
  };
}
