import { resolve } from 'node:path';

import { UsageError } from '../errors.js';
import type { RecordedRedactionRule } from '../generated/session.js';
import type { ParsedManifest } from '../manifest/index.js';
import { DatabaseUrl } from '../postgres/database-url.js';

/** What the caller asked for (the `record` command: its flags); unset fields fall back to the manifest. */
export interface RecordRequest {
  listen?: string | undefined;
  targetUrl?: string | undefined;
  /** `NAME:PASSWORD` each. */
  pseudoUsers: string[];
  sessionsDir?: string | undefined;
  redact?: boolean | undefined;
}

export interface ResolvedRecordOptions {
  listen: string;
  target: DatabaseUrl;
  pseudoUsers: { name: string; password: string }[];
  sessionsDir: string;
  redaction: RecordedRedactionRule[];
}

export const defaultListen = '127.0.0.1:5433';

/**
 * The request (flags) first, then the manifest's optional `session` block (listen, sessionsDir, targetUrlEnv,
 * redact), then built-in defaults. Relative `sessionsDir` from a manifest is relative to the manifest.
 */
export function resolveRecordOptions(
  request: RecordRequest,
  manifest: ParsedManifest | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedRecordOptions {
  const session = manifest?.session;
  let target: DatabaseUrl;
  if (request.targetUrl) {
    target = DatabaseUrl.parse(request.targetUrl, '--target-url');
  } else if (session?.targetUrlEnv && env[session.targetUrlEnv]) {
    target = DatabaseUrl.parse(env[session.targetUrlEnv]!, `$${session.targetUrlEnv}`);
  } else {
    throw new UsageError(
      'no target database URL',
      session?.targetUrlEnv ? `pass --target-url or set ${session.targetUrlEnv}` : 'pass --target-url',
    );
  }
  const pseudoUsers = request.pseudoUsers.map(parsePseudoUser);
  const names = new Set<string>();
  for (const user of pseudoUsers) {
    if (names.has(user.name)) throw new UsageError(`pseudo user "${user.name}" given twice`);
    names.add(user.name);
  }
  const sessionsDir = request.sessionsDir
    ? resolve(request.sessionsDir)
    : session?.sessionsDir && manifest
      ? resolve(manifest.path, '..', session.sessionsDir)
      : resolve('sessions');
  const redact = request.redact ?? session?.redact ?? false;
  const redaction: RecordedRedactionRule[] =
    redact && manifest
      ? manifest.redactionRules.map((rule) => ({
          fields: rule.fields,
          action: rule.action,
          prefix: rule.prefix,
        }))
      : [];
  return {
    listen: request.listen ?? session?.listen ?? defaultListen,
    target,
    pseudoUsers,
    sessionsDir,
    redaction,
  };
}

/** `NAME:PASSWORD`; the name must be a plain login name, the password non-empty. */
export function parsePseudoUser(text: string): { name: string; password: string } {
  const colon = text.indexOf(':');
  const name = colon > 0 ? text.slice(0, colon) : '';
  const password = colon > 0 ? text.slice(colon + 1) : '';
  if (!/^[A-Za-z_][A-Za-z0-9_.-]{0,62}$/.test(name) || password === '') {
    throw new UsageError('invalid --pseudo-user', 'expected NAME:PASSWORD, e.g. alice:local-secret');
  }
  return { name, password };
}
