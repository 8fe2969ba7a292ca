import { isIP } from 'node:net';

/** Host suffixes of managed Postgres services; a replay target there is almost certainly not local. */
const managedHostPatterns: RegExp[] = [
  /\.rds\.amazonaws\.com$/,
  /\.redshift\.amazonaws\.com$/,
  /\.redshift-serverless\.amazonaws\.com$/,
  /\.compute\.amazonaws\.com$/,
  /\.postgres\.database\.azure\.com$/,
  /\.database\.windows\.net$/,
  /\.cloudsql\./,
  /\.supabase\.(co|com)$/,
  /\.pooler\.supabase\.com$/,
  /\.neon\.tech$/,
  /\.render\.com$/,
  /\.herokuapp\.com$/,
  /\.railway\.app$/,
  /\.rlwy\.net$/,
  /\.aivencloud\.com$/,
  /\.timescale\.com$/,
  /\.tsdb\.cloud\.timescale\.com$/,
  /\.crunchybridge\.com$/,
  /\.ondigitalocean\.com$/,
  /\.cockroachlabs\.cloud$/,
  /\.googleusercontent\.com$/,
];

/**
 * "prod" starting a word part (prod, proddb, app_prod, production, prod2 — not "product"), or the
 * words prd/live. Separators: anything but a letter.
 */
const productionWord = /(^|[^a-z])(prod(?!ucts?([^a-z]|$))|prd([^a-z]|$)|live([^a-z]|$))/;

/** Reserved names (RFC 2606/6761) and container-local names: never someone's production server. */
const localSuffixes = ['.localhost', '.test', '.invalid', '.example', '.docker.internal'];

/** The server a connection reaches, as the driver resolved it. */
export interface Endpoint {
  host: string;
  port: number;
  database: string;
}

/**
 * A host in one canonical spelling: lower case, no trailing dot, IPv4 short forms expanded (`127.1`,
 * `0x7f.1` → `127.0.0.1`), IPv6 brackets removed; every loopback spelling (and 0.0.0.0, ::) becomes
 * `loopback`.
 */
export function canonicalHost(host: string): string {
  const lower = host.trim().toLowerCase().replace(/\.$/, '');
  if (lower.startsWith('/')) return lower; // unix socket directory
  let canonical = lower.replace(/^\[|\]$/g, '');
  if (!isIP(canonical)) {
    try {
      const parsed = new URL(`http://${canonical.includes(':') ? `[${canonical}]` : canonical}/`).hostname;
      canonical = parsed.replace(/^\[|\]$/g, '');
    } catch {
      // not a host name a URL accepts; compare it as written
    }
  }
  // 0.0.0.0 and :: (the unspecified address) reach this machine too; ::ffff:7f00:1 is 127.0.0.1 mapped.
  if (
    ['localhost', '::1', '0.0.0.0', '::'].includes(canonical) ||
    /^(::ffff:)?127\./.test(canonical) ||
    /^::ffff:7f[0-9a-f]{2}:/.test(canonical)
  )
    return 'loopback';
  return canonical;
}

/** host:port/database in canonical form, for comparing two endpoints. */
export function canonicalEndpoint(endpoint: Endpoint): string {
  return `${canonicalHost(endpoint.host)}:${endpoint.port}/${endpoint.database}`;
}

/** Why an endpoint looks like production, or undefined when it does not. Pure: no network. */
export function productionReason(endpoint: Endpoint): string | undefined {
  const shown = endpoint.host;
  const host = canonicalHost(endpoint.host);
  const database = endpoint.database.toLowerCase();
  if (productionWord.test(database)) return `database "${endpoint.database}" looks like production`;
  if (host === 'loopback' || host.startsWith('/')) return undefined;
  if (productionWord.test(host)) return `host "${shown}" looks like production`;
  if (managedHostPatterns.some((pattern) => pattern.test(host)))
    return `host "${shown}" is a managed cloud database`;
  if (isIP(host)) {
    return endpoint.port === 5432
      ? `host ${shown} is a network address (not loopback) on Postgres' default port 5432`
      : undefined;
  }
  if (host.includes('.') && !localSuffixes.some((suffix) => host.endsWith(suffix))) {
    return `host "${shown}" is a fully qualified name outside localhost`;
  }
  return undefined;
}
