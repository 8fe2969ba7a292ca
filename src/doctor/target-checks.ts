import type pg from 'pg';

import { isReplayEnvError } from '../errors.js';
import type { ParsedManifest } from '../manifest/index.js';
import type { DatabaseUrl } from '../postgres/database-url.js';
import { recordedIdentity, sameDatabase, type ServerIdentity } from '../postgres/server-identity.js';
import {
  identifyTarget,
  resolveDatabaseUrl,
  type TargetGuardOptions,
  unsafeBeforeConnect,
} from '../postgres/target.js';
import { type DoctorCheck, fail, pass, warn } from './check.js';

export interface DoctorTargetOptions {
  dbUrl: string | undefined;
  env: NodeJS.ProcessEnv;
  /** The `--capsule` header's `source`, when doctor was given a capsule: its recorded server identity. */
  capsuleSource?: TargetGuardOptions['capsuleSource'];
}

/**
 * Which replay database doctor checks, and whether it is one a replay may write to — answered by
 * postgres/target.ts, the module materialize, run and replay use, so doctor passes exactly the targets
 * they accept. Returns the URL only when it is safe to connect: doctor never connects to a
 * production-looking database, even read-only, because the user meant to point it at a replay database
 * and did not.
 */
export function targetChecks(
  manifest: ParsedManifest,
  options: DoctorTargetOptions,
): { checks: DoctorCheck[]; url: DatabaseUrl | undefined } {
  const envVar = manifest.postgres.replayDatabaseUrlEnv;
  let url: DatabaseUrl;
  try {
    url = resolveDatabaseUrl({
      flag: options.dbUrl,
      envVar,
      env: options.env,
      fallback: manifest.localDatabaseUrl,
    });
  } catch (error) {
    if (!isReplayEnvError(error)) throw error;
    const nothingGiven = options.dbUrl === undefined && !options.env[envVar] && !manifest.localDatabaseUrl;
    return {
      checks: [
        nothingGiven
          ? warn(
              'db.url',
              'replay database',
              `no URL (pass --db-url, set ${envVar} or localDatabaseUrl); database checks skipped`,
            )
          : fail('db.url', 'replay database', error.message),
      ],
      url: undefined,
    };
  }
  const reason = unsafeBeforeConnect(url, guardOptions(manifest, options));
  if (reason) {
    return {
      checks: [
        fail(
          'db.target-safety',
          'target safety',
          `${url.identity()}: ${reason}; replays refuse it, and doctor does not connect to it`,
        ),
      ],
      url: undefined,
    };
  }
  return {
    checks: [pass('db.target-safety', 'target safety', `${url.identity()} does not look like production`)],
    url,
  };
}

/**
 * After connecting: what the server says it is, compared as materialize compares it before writing
 * (the database name as the server reports it; the capsule's recorded source identity, with --capsule).
 * On a refusal doctor checks nothing more on that database.
 */
export async function serverTargetCheck(
  client: pg.Client,
  url: DatabaseUrl,
  manifest: ParsedManifest,
  options: DoctorTargetOptions,
): Promise<DoctorCheck> {
  const { identity, reason } = await identifyTarget(client, url, guardOptions(manifest, options));
  if (reason)
    return fail('db.server-identity', 'server identity', `${url.identity()}: ${reason}; replays refuse it`);
  const id = identity.systemIdentifier
    ? `system identifier ${identity.systemIdentifier}`
    : 'system identifier not readable by this role (compared by server start time and port)';
  const compared = comparedWithSource(identity, options);
  return pass(
    'db.server-identity',
    'server identity',
    `database ${identity.databaseName} (oid ${identity.databaseOid}), ${id}${compared}`,
  );
}

function comparedWithSource(identity: ServerIdentity, options: DoctorTargetOptions): string {
  const source = recordedIdentity(options.capsuleSource?.server);
  if (!source) return '';
  return sameDatabase(source, identity) === false
    ? "; not the capsule's export source"
    : "; the server cannot tell whether it is the capsule's export source (only the URL was compared)";
}

function guardOptions(manifest: ParsedManifest, options: DoctorTargetOptions): TargetGuardOptions {
  return {
    prodEnvVar: manifest.postgres.prodDatabaseUrlEnv,
    env: options.env,
    capsuleSource: options.capsuleSource,
  };
}
