import type { CredentialScan, JudgeResult } from './types.js';

/** How many findings are spelled out in reasons; all of them stay in `findings`. */
const reasonLimit = 20;

/** Credentials in a safe export: a `redaction: safe` capsule must hold no secrets. Never shows a value. */
export function judgeCredentials(scan: CredentialScan | undefined): JudgeResult {
  const id = 'credentials_in_safe_export';
  if (scan === undefined) return { id, verdict: 'warn', reasons: ['no capsule in this run'], findings: [] };
  if (scan.redaction !== 'safe') {
    return {
      id,
      verdict: 'warn',
      reasons: [`redaction is ${scan.redaction ?? 'not recorded'}: credentials are expected, not scanned`],
      findings: [],
    };
  }
  if (scan.findings.length === 0 && scan.error) {
    return {
      id,
      verdict: 'fail',
      reasons: [`capsule could not be scanned completely: ${scan.error}`],
      findings: [],
    };
  }
  if (scan.findings.length === 0) {
    return {
      id,
      verdict: 'pass',
      reasons: [`${scan.rowsScanned} ${scan.rowsScanned === 1 ? 'row' : 'rows'} scanned, no credentials`],
      findings: [],
    };
  }
  const reasons = scan.findings
    .slice(0, reasonLimit)
    .map((finding) => `${finding.table}[${finding.row}].${finding.path}: ${finding.kind}`);
  if (scan.findings.length > reasonLimit) reasons.push(`… and ${scan.findings.length - reasonLimit} more`);
  return { id, verdict: 'fail', reasons, findings: scan.findings };
}
