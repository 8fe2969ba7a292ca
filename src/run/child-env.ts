import type { ParsedManifest } from '../manifest/index.js';
import type { DatabaseUrl } from '../postgres/database-url.js';

/**
 * What the production URL variable is set to in every child: a URL that cannot connect (port 1, a user
 * name that says why), so a replay never reaches production by accident, even if the parent has it set.
 */
export const blockedProductionUrl = 'postgres://replay-env-blocked@127.0.0.1:1/blocked-by-replay-env';

/**
 * The environment of a command or probe: the parent's, the step's own `env`, the replay URL under the
 * manifest's replay variable and the production variable overwritten — in that order, so neither a step's
 * `env` nor the parent can route a replay to production.
 */
export function childEnv(options: {
  manifest: Pick<ParsedManifest, 'postgres'>;
  databaseUrl: DatabaseUrl | undefined;
  parentEnv?: NodeJS.ProcessEnv;
  extra?: Record<string, string>;
}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.parentEnv ?? process.env)) {
    if (value !== undefined) env[key] = value;
  }
  Object.assign(env, options.extra ?? {});
  const { replayDatabaseUrlEnv, prodDatabaseUrlEnv } = options.manifest.postgres;
  if (options.databaseUrl) env[replayDatabaseUrlEnv] = options.databaseUrl.connectionString();
  env[prodDatabaseUrlEnv] = blockedProductionUrl;
  return env;
}
