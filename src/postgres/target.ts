/**
 * The one answer to "which database is this, and may we write to it?" (#15 item 4). Every command that
 * writes a replay database (materialize, run, replay) and doctor go through here:
 *
 * 1. resolveDatabaseUrl: the URL (flag → the manifest's env var → its localDatabaseUrl); `--db-url ""` is
 *    an error, not a fallback. Host, port and database are what the driver resolves (DatabaseUrl).
 * 2. checkTargetBeforeConnect: refuse a production-looking endpoint, or the export source as named by
 *    the production env var or the capsule header, comparing canonical endpoints (every loopback
 *    spelling is one host). Production is never even connected to.
 * 3. checkTargetAfterConnect: before any write, compare what the server says it is (system_identifier,
 *    database oid; start time + port where the identifier is not readable) with the capsule's source.
 *
 * `--allow-unsafe-target` turns a refusal into one loud warning line naming target and reason.
 */
import type pg from 'pg';

import { UnsafeTargetError, UsageError } from '../errors.js';
import { warn } from '../warnings.js';
import { DatabaseUrl } from './database-url.js';
import { identifyServer, recordedIdentity, sameDatabase, type ServerIdentity } from './server-identity.js';
import { canonicalEndpoint, productionReason } from './target-safety.js';

export interface DatabaseUrlOptions {
  /** `--db-url`; `""` is an error. */
  flag: string | undefined;
  envVar: string;
  env?: NodeJS.ProcessEnv;
  /** The manifest's localDatabaseUrl. */
  fallback?: string | undefined;
  role?: string;
}

/** A database URL (the replay database unless `role` says otherwise): the flag, else `$<envVar>`, else the manifest's localDatabaseUrl. */
export function resolveDatabaseUrl(options: DatabaseUrlOptions): DatabaseUrl {
  const env = options.env ?? process.env;
  const role = options.role ?? 'replay database';
  if (options.flag !== undefined) {
    if (options.flag.trim() === '') {
      throw new UsageError(
        '--db-url is empty',
        `pass the ${role} URL, or leave the flag out to use $${options.envVar}`,
      );
    }
    return DatabaseUrl.parse(options.flag, '--db-url');
  }
  const fromEnv = env[options.envVar];
  if (fromEnv) return DatabaseUrl.parse(fromEnv, `$${options.envVar}`);
  if (options.fallback) return DatabaseUrl.parse(options.fallback, "the manifest's localDatabaseUrl");
  throw new UsageError(`no ${role} URL`, `pass --db-url or set ${options.envVar}`);
}

export interface TargetGuardOptions {
  /** The manifest's production env var name; its value (if set) is the export source. */
  prodEnvVar?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** The capsule header's `source` (database text and, from this version on, the server identity). */
  capsuleSource?: { database?: string; server?: unknown } | undefined;
  allowUnsafeTarget?: boolean | undefined;
}

const hint =
  'point --db-url at a local or staging replay database, or pass --allow-unsafe-target if you are sure';

/** Step 2: checks that need no connection. Throws UnsafeTargetError (or warns when overridden). */
export function checkTargetBeforeConnect(target: DatabaseUrl, options: TargetGuardOptions): void {
  const reason = unsafeBeforeConnect(target, options);
  if (reason) refuseOrWarn(target, reason, options);
}

/** Step 2 as data: why this target must not be written to (or even connected to), or undefined. */
export function unsafeBeforeConnect(target: DatabaseUrl, options: TargetGuardOptions): string | undefined {
  return productionReason(target) ?? exportSourceReason(target, options);
}

/**
 * Step 3: reads the server's identity and compares it with the capsule's recorded source. Call right
 * after connecting, outside a transaction, before any write. Returns the identity.
 */
export async function checkTargetAfterConnect(
  client: pg.Client,
  target: DatabaseUrl,
  options: TargetGuardOptions,
): Promise<ServerIdentity> {
  const { identity, reason } = await identifyTarget(client, target, options);
  if (reason) refuseOrWarn(target, reason, options);
  return identity;
}

/** Step 3 as data: the server's identity, and why it must not be written to (or undefined). */
export async function identifyTarget(
  client: pg.Client,
  target: DatabaseUrl,
  options: TargetGuardOptions,
): Promise<{ identity: ServerIdentity; reason: string | undefined }> {
  const identity = await identifyServer(client);
  if (identity.databaseName !== target.database) {
    const named = productionReason({ ...target, database: identity.databaseName });
    if (named) return { identity, reason: named };
  }
  const source = recordedIdentity(options.capsuleSource?.server);
  if (source && sameDatabase(source, identity) === true) {
    const how = identity.systemIdentifier
      ? 'system identifier and database oid'
      : 'server start time, port and database oid';
    return { identity, reason: `it is the database the capsule is exported from (same ${how})` };
  }
  return { identity, reason: undefined };
}

function exportSourceReason(target: DatabaseUrl, options: TargetGuardOptions): string | undefined {
  const env = options.env ?? process.env;
  const mine = canonicalEndpoint(target);
  const prodText = options.prodEnvVar ? env[options.prodEnvVar] : undefined;
  if (prodText) {
    try {
      if (canonicalEndpoint(DatabaseUrl.parse(prodText)) === mine) {
        return `it is the export source ($${options.prodEnvVar})`;
      }
    } catch {
      // a malformed production URL is export's problem; the other checks still apply
    }
  }
  const recorded = options.capsuleSource?.database;
  const match = recorded ? /^(.*):(\d+)\/(.*)$/.exec(recorded) : null;
  if (match && canonicalEndpoint({ host: match[1]!, port: Number(match[2]), database: match[3]! }) === mine) {
    return 'it is the database the capsule is exported from';
  }
  return undefined;
}

function refuseOrWarn(target: DatabaseUrl, reason: string, options: TargetGuardOptions): void {
  if (!options.allowUnsafeTarget) {
    throw new UnsafeTargetError(`refusing to write to ${target.identity()}: ${reason}`, hint);
  }
  warn(`--allow-unsafe-target: writing to ${target.identity()} although ${reason}`);
}
