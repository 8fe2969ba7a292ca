import type { DoctorResult } from '../../services/doctor.js';

export function renderDoctor(result: DoctorResult, strict: boolean): string {
  const lines = result.checks.map((check) => `[${check.status}] ${check.name}: ${check.detail}`);
  const { passed, warnings, failed } = result.summary;
  const verdict = result.ok ? 'ok' : strict && failed === 0 ? 'not ok (--strict: warnings fail)' : 'not ok';
  lines.push('', `${passed} passed, ${warnings} warnings, ${failed} failed: ${verdict}`);
  return lines.join('\n');
}
