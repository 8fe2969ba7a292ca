import { isReplayEnvError } from '../errors.js';
import type { ParsedManifest } from '../manifest/index.js';
import { DatabaseUrl } from '../postgres/database-url.js';
import { resolveDatabaseUrl } from '../postgres/resolve-url.js';
import { canonicalEndpoint, productionReason } from '../postgres/target-safety.js';
import { type DoctorCheck, fail, pass, warn } from './check.js';

/**
 * Which replay database doctor checks, and whether it is one a replay may write to. Returns the URL
 * only when it is safe to connect: doctor never connects to a production-looking database, even
 * read-only, because the user meant to point it at a replay database and did not.
 */
export function targetChecks(
  manifest: ParsedManifest,
  options: { dbUrl: string | undefined; env: NodeJS.ProcessEnv },
): { checks: DoctorCheck[]; url: DatabaseUrl | undefined } {
  const envVar = manifest.postgres.replayDatabaseUrlEnv;
  let url: DatabaseUrl;
  try {
    url = resolveDatabaseUrl({
      flag: options.dbUrl,
      envVar,
      env: options.env,
      fallback: manifest.localDatabaseUrl,
      role: 'replay database',
    });
  } catch (error) {
    if (!isReplayEnvError(error)) throw error;
    const nothingGiven = !options.dbUrl && !options.env[envVar] && !manifest.localDatabaseUrl;
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
  const reason = productionReason(url);
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
  const sourceText = options.env[manifest.postgres.prodDatabaseUrlEnv];
  let source: DatabaseUrl | undefined;
  try {
    source = sourceText ? DatabaseUrl.parse(sourceText) : undefined;
  } catch {
    source = undefined; // a malformed source URL is export's problem, not this check's
  }
  if (source && canonicalEndpoint(source) === canonicalEndpoint(url)) {
    return {
      checks: [
        fail(
          'db.target-safety',
          'target safety',
          `${url.identity()} is the export source (${manifest.postgres.prodDatabaseUrlEnv}); replays refuse it`,
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
