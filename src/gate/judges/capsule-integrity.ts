import type { CapsuleEvidence, CapsuleUnreadable, JudgeResult } from './types.js';

/**
 * Capsule integrity: a subject for every subject key, a graph that contains it, tables, and integrity data
 * that verifies → pass; a capsule without integrity data (the original tool's) → warn; anything broken →
 * fail. No capsule in this run → warn.
 */
export function judgeCapsuleIntegrity(capsule: CapsuleEvidence | CapsuleUnreadable | undefined): JudgeResult {
  const id = 'capsule_integrity';
  if (capsule === undefined) return { id, verdict: 'warn', reasons: ['no capsule in this run'] };
  if ('error' in capsule) return { id, verdict: 'fail', reasons: [`capsule unreadable: ${capsule.error}`] };
  const failures: string[] = [];
  const missingKeys = capsule.subjectKeys.filter((key) => !capsule.subject[key]);
  if (missingKeys.length > 0) failures.push(`subject has no value for ${missingKeys.join(', ')}`);
  if (capsule.graphSize === 0) failures.push('graph is empty');
  else if (!capsule.graphHasSubject) failures.push('graph does not contain the subject');
  if (Object.keys(capsule.tables).length === 0) failures.push('capsule has no tables');
  if (capsule.integrity.status === 'failed') {
    failures.push(
      ...(capsule.integrity.problems.length > 0 ? capsule.integrity.problems : ['integrity check failed']),
    );
  }
  if (failures.length > 0) return { id, verdict: 'fail', reasons: failures };
  if (capsule.integrity.status === 'counts-only') {
    return {
      id,
      verdict: 'warn',
      reasons: ['no integrity hashes (older capsule): structure and row counts checked only'],
    };
  }
  const rows = Object.values(capsule.tables).reduce((sum, n) => sum + n, 0);
  return {
    id,
    verdict: 'pass',
    reasons: [
      `${Object.keys(capsule.tables).length} tables, ${rows} ${rows === 1 ? 'row' : 'rows'}, graph of ${capsule.graphSize}; hashes verify`,
    ],
  };
}
