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
  if (postgresNames.test(name)) return false;
  return inheritedNames.has(name) || inheritedPrefixes.some((prefix) => name.startsWith(prefix));
}

/**
 * Whether a parent variable is kept from children: not on the allow-list, or its value resolves to the
 * production database. The same rule blanks them in the CLI's own start-up environment
 * (startup-environment.ts), so `/proc/<cli pid>/environ` shows a child nothing its own environment lacks.
 */
export function withheldFromChildren(
  manifest: Pick<ParsedManifest, 'postgres'>,
  parentEnv: NodeJS.ProcessEnv,
): (name: string, value: string) => boolean {
  const toProduction = productionMatcher(manifest, parentEnv);
  return (name, value) => !isInherited(name) || toProduction(value);
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
  const withheld = withheldFromChildren(options.manifest, parent);
  const toProduction = productionMatcher(options.manifest, parent);
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(parent)) {
    if (value !== undefined && !withheld(key, value)) env[key] = value;
  }
  for (const [key, value] of Object.entries(options.extra ?? {})) {
    // A step's own value that points at production removes the variable altogether.
    if (toProduction(value)) delete env[key];
    else env[key] = value;
  }
  const { replayDatabaseUrlEnv, prodDatabaseUrlEnv } = options.manifest.postgres;
  if (options.databaseUrl) env[replayDatabaseUrlEnv] = options.databaseUrl.connectionString();
  env[prodDatabaseUrlEnv] = blockedProductionUrl;
  return env;
}

/** The allow-listed parent variables alone: for processes replay-env starts itself (Chromium). */
export function inheritedEnv(parentEnv: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(parentEnv)) {
    if (value !== undefined && isInherited(key)) env[key] = value;
  }
  return env;
}

/** Whether a value is a postgres URL that resolves to the manifest's production database. */
function productionMatcher(
  manifest: Pick<ParsedManifest, 'postgres'>,
  parentEnv: NodeJS.ProcessEnv,
): (value: string) => boolean {
  const production = endpointOf(parentEnv[manifest.postgres.prodDatabaseUrlEnv]);
  return (value) => production !== undefined && endpointOf(value) === production;
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
