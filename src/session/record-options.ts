import { resolve } from 'node:path';

import { UsageError } from '../errors.js';
import type { RecordedRedactionRule } from '../generated/session.js';
import type { ParsedManifest } from '../manifest/index.js';
import { DatabaseUrl } from '../postgres/database-url.js';

export interface RecordFlags {
  listen?: string;
  'target-url'?: string;
  'pseudo-user': string[];
  'sessions-dir'?: string;
  redact?: boolean;
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
 * Flags first, then the manifest's optional `session` block (listen, sessionsDir, targetUrlEnv,
 * redact), then built-in defaults. Relative `sessionsDir` from a manifest is relative to the manifest.
 */
export function resolveRecordOptions(
  flags: RecordFlags,
  manifest: ParsedManifest | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedRecordOptions {
  const session = manifest?.session;
  let target: DatabaseUrl;
  if (flags['target-url']) {
    target = DatabaseUrl.parse(flags['target-url'], '--target-url');
  } else if (session?.targetUrlEnv && env[session.targetUrlEnv]) {
    target = DatabaseUrl.parse(env[session.targetUrlEnv]!, `$${session.targetUrlEnv}`);
  } else {
    throw new UsageError(
      'no target database URL',
      session?.targetUrlEnv ? `pass --target-url or set ${session.targetUrlEnv}` : 'pass --target-url',
    );
  }
  const pseudoUsers = flags['pseudo-user'].map(parsePseudoUser);
  const names = new Set<string>();
  for (const user of pseudoUsers) {
    if (names.has(user.name)) throw new UsageError(`pseudo user "${user.name}" given twice`);
    names.add(user.name);
  }
  const sessionsDir = flags['sessions-dir']
    ? resolve(flags['sessions-dir'])
    : session?.sessionsDir && manifest
      ? resolve(manifest.path, '..', session.sessionsDir)
      : resolve('sessions');
  const redact = flags.redact ?? session?.redact ?? false;
  const redaction: RecordedRedactionRule[] =
    redact && manifest
      ? manifest.redactionRules.map((rule) => ({
          fields: rule.fields,
          action: rule.action,
          prefix: rule.prefix,
        }))
      : [];
  return {
    listen: flags.listen ?? session?.listen ?? defaultListen,
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
