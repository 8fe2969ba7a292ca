import { lstat, readdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import { isCapsuleAccessRefusal, openCapsule } from '../capsule/index.js';
import { FileError } from '../errors.js';
import { fileSha256 } from '../file-sha256.js';
import { withAudit } from '../governance/audit-hook.js';
import { auditFileName } from '../governance/audit-log.js';
import { formatDuration } from '../governance/duration.js';

export interface PruneOptions {
  dir: string;
  /** Remove capsules whose header `expiresAt` has passed. */
  expired: boolean;
  /** Remove capsules whose file was last modified more than this many ms ago. */
  olderThanMs?: number | undefined;
  dryRun: boolean;
  now?: Date;
}

export interface PrunedCapsule {
  capsule: string;
  reason: string;
  /** Files made from it: same name stem (`<stem>.*`, `<stem>-*`) or a trace whose capsule.sha256 matches. */
  derived: string[];
}

export interface PruneResult {
  dir: string;
  dryRun: boolean;
  removed: PrunedCapsule[];
  /** Capsules that could not be judged (e.g. encrypted and no identity), with why. */
  skipped: Array<{ capsule: string; reason: string }>;
}

const capsuleName = /\.json(\.gz)?(\.age)?$/i;

/**
 * Deletes capsules past retention in DIR (not recursive) and the files made from them, and says what
 * it removed. Only regular files directly in DIR are considered: symlinks are never followed or removed.
 */
export async function pruneCapsules(options: PruneOptions): Promise<PruneResult> {
  const dir = resolve(options.dir);
  const now = (options.now ?? new Date()).getTime();
  const files = await regularFiles(dir);
  const result: PruneResult = { dir, dryRun: options.dryRun, removed: [], skipped: [] };
  for (const name of files.filter((file) => capsuleName.test(file))) {
    const path = join(dir, name);
    const reason = await pruneReason(path, options, now).catch((error: unknown) => {
      // Encrypted without a usable identity: say so. Other unreadable JSON is not a capsule (a trace…).
      if (isCapsuleAccessRefusal(error))
        result.skipped.push({ capsule: name, reason: (error as Error).message });
      return undefined;
    });
    if (!reason) continue;
    const stem = name.replace(capsuleName, '');
    const sha256 = await fileSha256(path);
    const derived: string[] = [];
    for (const other of files) {
      if (other === name || other === auditFileName) continue;
      // A JSON file may be another capsule: only a trace naming this capsule's sha256 goes with it.
      const made = capsuleName.test(other)
        ? await traceOf(join(dir, other), sha256)
        : other.startsWith(`${stem}.`) || other.startsWith(`${stem}-`);
      if (made) derived.push(other);
    }
    result.removed.push({ capsule: name, reason, derived });
  }
  if (!options.dryRun) {
    for (const entry of result.removed) {
      await withAudit(
        join(dir, entry.capsule),
        { command: 'prune', reason: entry.reason, derived: entry.derived },
        async () => {
          for (const file of [...entry.derived, entry.capsule]) await rm(join(dir, file), { force: true });
        },
      );
    }
  }
  return result;
}

async function pruneReason(path: string, options: PruneOptions, now: number): Promise<string | undefined> {
  if (options.olderThanMs !== undefined) {
    const stats = await lstat(path);
    if (now - stats.mtimeMs > options.olderThanMs) return `older than ${formatDuration(options.olderThanMs)}`;
  }
  if (options.expired) {
    const reader = await openCapsule(path);
    const expiresAt = reader.header.expiresAt;
    if (expiresAt && Date.parse(expiresAt) <= now) return `expired at ${expiresAt}`;
  }
  return undefined;
}

async function regularFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: Error) => {
    throw new FileError(`cannot list ${dir}: ${error.message}`);
  });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name)
    .sort();
}

/** Whether `path` is a run trace whose `capsule.sha256` is `sha256` (small JSON files only). */
async function traceOf(path: string, sha256: string): Promise<boolean> {
  if (!path.endsWith('.json')) return false;
  const stats = await lstat(path);
  if (!stats.isFile() || stats.size > 50 * 1024 * 1024) return false;
  try {
    const trace = JSON.parse(await readFile(path, 'utf8')) as { capsule?: { sha256?: unknown } };
    return trace.capsule?.sha256 === sha256;
  } catch {
    return false;
  }
}
