import type { DatabaseUrl } from './database-url.js';
import { resolveReplayUrl } from './target.js';

/**
 * Picks a database URL: the flag (`""` is an error), else the named env var, else a fallback (the
 * manifest's localDatabaseUrl). `role` ("export source", "replay database") appears in the error line.
 * The same rules as the replay target's (postgres/target.ts), used for the export source too.
 */
export function resolveDatabaseUrl(options: {
  flag: string | undefined;
  envVar: string;
  env?: NodeJS.ProcessEnv;
  fallback?: string | undefined;
  role: string;
}): DatabaseUrl {
  return resolveReplayUrl(options);
}
