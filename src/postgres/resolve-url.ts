import { UsageError } from '../errors.js';
import { DatabaseUrl } from './database-url.js';

/**
 * Picks a database URL: the flag, else the named env var, else a fallback (the manifest's
 * localDatabaseUrl). `role` ("export source", "replay database") appears in the error line.
 */
export function resolveDatabaseUrl(options: {
  flag: string | undefined;
  envVar: string;
  env?: NodeJS.ProcessEnv;
  fallback?: string | undefined;
  role: string;
}): DatabaseUrl {
  const env = options.env ?? process.env;
  if (options.flag) return DatabaseUrl.parse(options.flag, '--db-url');
  const fromEnv = env[options.envVar];
  if (fromEnv) return DatabaseUrl.parse(fromEnv, `$${options.envVar}`);
  if (options.fallback) return DatabaseUrl.parse(options.fallback, "the manifest's localDatabaseUrl");
  throw new UsageError(`no ${options.role} URL`, `pass --db-url or set ${options.envVar}`);
}
