import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

import { FileError } from '../errors.js';

export const auditFileName = '.replay-env-audit.jsonl';

/** One audit line. Hosts/databases only (`host:port/db`), never URLs; subject values only hashed. */
export interface AuditEntry {
  time: string;
  user: string;
  command: string;
  app?: string | undefined;
  subjectKeys?: string[] | undefined;
  /** SHA-256 of the subject's JSON (keys sorted): proves which subject without holding its values. */
  subjectSha256?: string | undefined;
  capsule?: string | undefined;
  capsuleSha256?: string | undefined;
  source?: string | undefined;
  target?: string | undefined;
  redaction?: string | undefined;
  /** SHA-256 prefixes (16 hex) of the age recipients the capsule was encrypted to. */
  recipients?: string[] | undefined;
  outcome: 'ok' | 'failed';
  /** The error code when `outcome` is `failed` (never its message, which may name values). */
  error?: string | undefined;
  [key: string]: unknown;
}

export function subjectSha256(subject: Record<string, string> | undefined): string | undefined {
  if (!subject) return undefined;
  const sorted = Object.fromEntries(Object.entries(subject).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}

export function recipientFingerprint(recipient: string): string {
  return createHash('sha256').update(recipient).digest('hex').slice(0, 16);
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/**
 * Appends one line to the audit log in the capsule's folder, created 0600; one write(2) of the whole
 * line with O_APPEND, so concurrent writers never interleave inside a line. A symlinked log is refused.
 */
export async function appendAudit(
  capsulePath: string,
  entry: Omit<AuditEntry, 'time' | 'user'>,
): Promise<void> {
  const file = join(dirname(resolve(capsulePath)), auditFileName);
  // Every line names its capsule (a file in this folder), whichever command wrote it.
  const capsule = basename(String(entry.capsule ?? capsulePath));
  const line = `${JSON.stringify({ time: new Date().toISOString(), user: osUser(), ...entry, capsule })}\n`;
  const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;
  const handle = await open(file, flags, 0o600).catch((error: Error) => {
    throw new FileError(`cannot append to audit log ${file}: ${error.message}`);
  });
  try {
    await handle.write(line);
  } finally {
    await handle.close();
  }
}

/** Reads every line of DIR's audit log; a line that is not JSON is returned as `{ invalid: text }`. */
export async function readAudit(dir: string): Promise<Array<AuditEntry | { invalid: string }>> {
  const file = join(dir, auditFileName);
  const stats = await lstat(file).catch(() => undefined);
  if (!stats) return [];
  if (!stats.isFile()) throw new FileError(`audit log ${file} is not a regular file`);
  const entries: Array<AuditEntry | { invalid: string }> = [];
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const text of lines) {
    if (!text.trim()) continue;
    try {
      entries.push(JSON.parse(text) as AuditEntry);
    } catch {
      entries.push({ invalid: text.slice(0, 200) });
    }
  }
  return entries;
}
