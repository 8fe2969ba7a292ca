import { existsSync } from 'node:fs';
import { dirname } from 'node:path';

import { isReplayEnvError } from '../errors.js';
import { fileSha256 } from '../file-sha256.js';
import { logger } from '../log.js';
import { appendAudit, type AuditEntry, subjectSha256 } from './audit-log.js';

type AuditFields = Omit<AuditEntry, 'time' | 'user' | 'outcome'>;

/**
 * Runs a command's work and appends one audit line next to `capsulePath` whatever the outcome. On
 * success a failed append fails the command (an audit trail that silently skips is worse than none);
 * on failure the original error wins and the append problem is only logged.
 */
export async function withAudit<T>(
  capsulePath: string | undefined,
  fields: AuditFields,
  work: () => Promise<T>,
  fromResult: (result: T) => Partial<AuditFields> = () => ({}),
): Promise<T> {
  if (!capsulePath) return work();
  let result: T;
  try {
    result = await work();
  } catch (error) {
    const code = isReplayEnvError(error) ? error.code : 'internal';
    const capsuleSha256 = await capsuleSha256Of(capsulePath);
    // A folder that does not exist (an export that failed before creating it) has no log to append to:
    // that is no news, so it is logged at debug level; the user sees only the command's own error line.
    await appendAudit(capsulePath, { ...fields, capsuleSha256, outcome: 'failed', error: code }).catch(
      (auditError: Error) =>
        !existsSync(dirname(capsulePath))
          ? logger().debug({ error: auditError.message }, 'no audit log: the capsule folder does not exist')
          : logger().warn({ error: auditError.message }, 'audit log append failed'),
    );
    throw error;
  }
  // The work may already know the capsule's hash (export wrote it, run read it): the capsule, which can be
  // gigabytes, is then not read a second time for the audit line.
  const { capsuleSha256: known, ...fromWork } = fromResult(result);
  const capsuleSha256 = known ?? (await capsuleSha256Of(capsulePath));
  await appendAudit(capsulePath, { ...fields, capsuleSha256, ...fromWork, outcome: 'ok' });
  return result;
}

/** SHA-256 of the capsule as stored (ciphertext when encrypted); undefined when it does not exist. */
function capsuleSha256Of(path: string): Promise<string | undefined> {
  return fileSha256(path).catch(() => undefined);
}

/** What a materialize result adds to its audit line: the subject now loaded (hashed) and the capsule's redaction. */
export function auditedMaterialize(result: {
  subject: Record<string, string>;
  integrity: string;
}): Partial<AuditFields> {
  return {
    subjectKeys: Object.keys(result.subject),
    subjectSha256: subjectSha256(result.subject),
    integrity: result.integrity,
  };
}

/** What an export result adds to its audit line: the hash of the capsule it wrote (as stored). */
export function auditedExport(result: { sha256: string }): Partial<AuditFields> {
  return { capsuleSha256: result.sha256 };
}

/**
 * What a run result adds to its audit line: the gate verdict, its exit code, the trace written and the
 * replay database as `host:port/db` (from the trace; a run that failed before producing one has none).
 */
export function auditedRun(result: {
  gate: string;
  exitCode: number;
  tracePath: string | null;
  trace: { database?: string | null; capsule?: { sha256: string | null } | null };
}): Partial<AuditFields> {
  return {
    // The capsule's hash as the run read it (null when it could not be read whole: withAudit hashes it).
    capsuleSha256: result.trace.capsule?.sha256 ?? undefined,
    gate: result.gate,
    exitCode: result.exitCode,
    trace: result.tracePath ?? undefined,
    target: result.trace.database ?? undefined,
  };
}
