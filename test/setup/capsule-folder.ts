import { readdir } from 'node:fs/promises';

/** The audit log export, materialize, run and prune append to in a capsule's folder (docs/safety.md). */
export const auditLogName = '.replay-env-audit.jsonl';

/**
 * What a folder holds besides the audit log: a failed command may append its audit line there (an
 * attempt is audited too), but must leave nothing else — no capsule, no temp file.
 */
export async function filesBesidesAudit(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name !== auditLogName);
}
