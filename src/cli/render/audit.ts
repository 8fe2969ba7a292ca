import type { AuditEntry } from '../../governance/audit-log.js';

/** One line per audit entry: time, user, command, outcome, capsule, then where and who (hashed). */
export function renderAudit(entries: Array<AuditEntry | { invalid: string }>): string {
  if (entries.length === 0) return 'no audit entries';
  return entries
    .map((entry) => {
      if ('invalid' in entry) return `(unreadable line) ${entry.invalid}`;
      const parts = [
        entry.time,
        entry.user,
        entry.command,
        entry.outcome + (entry.error ? `:${entry.error}` : ''),
      ];
      if (entry.capsule) parts.push(entry.capsule);
      if (entry.source) parts.push(`from ${entry.source}`);
      if (entry.target) parts.push(`into ${entry.target}`);
      if (entry.capsuleSha256) parts.push(`sha256 ${entry.capsuleSha256.slice(0, 12)}`);
      if (entry.recipients?.length) parts.push(`to ${entry.recipients.join(',')}`);
      return parts.join('  ');
    })
    .join('\n');
}
