import type { ParsedManifest } from '../manifest/index.js';
import { DatabaseUrl } from '../postgres/database-url.js';
import { canonicalEndpoint } from '../postgres/target-safety.js';

/**
 * What the production URL variable is set to in every child: a URL that cannot connect (port 1, a user
 * name that says why), so a replay never reaches production by accident, even if the parent has it set.
 */
export const blockedProductionUrl = 'postgres://replay-env-blocked@127.0.0.1:1/blocked-by-replay-env';

/**
 * Parent variables a child inherits: what a build or test tool needs to find itself and its files. Not
 * PG*, DATABASE_URL, cloud credentials or anything else: a step that needs more names it in its `env`.
 */
const inheritedNames = new Set([
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TZ', 'TERM', 'COLORTERM', 'NO_COLOR',
  'FORCE_COLOR', 'TMPDIR', 'TMP', 'TEMP', 'PWD', 'HOSTNAME', 'CI', 'NODE_ENV', 'NODE_OPTIONS', 'NODE_PATH',
  'NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'JAVA_HOME', 'GOPATH', 'GOROOT', 'GOCACHE',
  'GOMODCACHE', 'PYTHONPATH', 'VIRTUAL_ENV', 'CARGO_HOME', 'RUSTUP_HOME', 'DISPLAY',
]); // prettier-ignore
const inheritedPrefixes = ['LC_', 'XDG_'];

/** Names that always point a Postgres client somewhere: never inherited (a step may set them itself). */
const postgresNames = /^(PG[A-Z]+|DATABASE_URL)$/;

export function isInherited(name: string): boolean {
  return inheritedNames.has(name) || inheritedPrefixes.some((prefix) => name.startsWith(prefix));
}

/**
 * The environment of a command or probe, built from an allow-list (not the parent minus one variable):
 * the allowed parent variables, the step's own `env`, the replay URL under the manifest's replay
 * variable, and the production variable set to a blocked URL — in that order. PG* / DATABASE_URL from
 * the parent never pass, and any variable whose value resolves to the production database is dropped.
 */
export function childEnv(options: {
  manifest: Pick<ParsedManifest, 'postgres'>;
  databaseUrl: DatabaseUrl | undefined;
  parentEnv?: NodeJS.ProcessEnv;
  extra?: Record<string, string>;
}): Record<string, string> {
  const parent = options.parentEnv ?? process.env;
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(parent)) {
    if (value !== undefined && isInherited(key)) env[key] = value;
  }
  Object.assign(env, options.extra ?? {});
  const { replayDatabaseUrlEnv, prodDatabaseUrlEnv } = options.manifest.postgres;
  const production = endpointOf(parent[prodDatabaseUrlEnv]);
  for (const [key, value] of Object.entries(env)) {
    if (postgresNames.test(key) && !(options.extra && key in options.extra)) delete env[key];
    else if (production && endpointOf(value) === production) delete env[key];
  }
  if (options.databaseUrl) env[replayDatabaseUrlEnv] = options.databaseUrl.connectionString();
  env[prodDatabaseUrlEnv] = blockedProductionUrl;
  return env;
}

/** The canonical endpoint of a value that is a postgres URL, else undefined. */
function endpointOf(value: string | undefined): string | undefined {
  if (!value || !/^postgres(ql)?:\/\//i.test(value.trim())) return undefined;
  try {
    return canonicalEndpoint(DatabaseUrl.parse(value));
  } catch {
    return undefined;
  }
}
