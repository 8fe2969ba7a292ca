import { UsageError } from '../errors.js';
import { registerSecret } from '../secrets.js';
import { Client } from './pg.js';

/** Connection parameters as the driver resolved them: the URL, then PGHOST/PGPORT/… , then defaults. */
interface ResolvedParams {
  host: string;
  port: number;
  database: string;
  user: string;
}

/**
 * A Postgres connection URL whose password cannot leak by accident: `toString()` and `toJSON()` mask it,
 * and the password is registered with the secret scrubber the moment the URL is parsed.
 * Only `connectionString()` returns the real thing, for handing to the driver.
 */
export class DatabaseUrl {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly #url: URL;

  /**
   * host/port/database/user are what the DRIVER makes of the URL (pg's own parser and its PG* env
   * fallbacks), not our reading of the text: `?host=a&host=b`, `postgres:///db` with PGHOST, or no
   * database with PGDATABASE all name the server pg will really connect to. connect() hands these
   * resolved values back to pg, so a later change of process.env cannot move the connection.
   */
  private constructor(url: URL) {
    this.#url = url;
    // Query parameters override the URL parts, and a repeated one counts by its last value, as in the
    // driver (pg-connection-string) — so what we print and guard is what the driver connects to.
    // A URL may use a unix socket via ?host=/path; the URL host is then empty.
    this.host = lastParam(url, 'host') ?? (decode(url.hostname) || 'localhost');
    const port = lastParam(url, 'port') ?? (url.port || '5432');
    this.port = Number(port);
    if (!Number.isInteger(this.port) || this.port < 1 || this.port > 65_535) {
      throw new UsageError(`database URL has an invalid port "${port}"`);
    }
    this.user = lastParam(url, 'user') ?? decode(url.username);
    this.database =
      lastParam(url, 'dbname') ?? (decode(url.pathname.replace(/^\//, '')) || this.user || 'postgres');
    // What the driver makes of it, env fallbacks (PGHOST, PGPORT, PGDATABASE, PGUSER) included.
    const resolved = resolveParams(
      this.driverConnectionString(),
      this.host,
      this.port,
      this.database,
      this.user,
    );
    this.host = resolved.host;
    this.port = resolved.port;
    this.database = resolved.database;
    this.user = resolved.user;
    registerSecret(this.password);
    registerSecret(lastParam(url, 'sslpassword'));
  }

  /** A query parameter (`?sslmode=…`), the last one when repeated. */
  param(name: string): string | undefined {
    return lastParam(this.#url, name);
  }

  /** Parses `postgres://` / `postgresql://` URLs; `source` names where it came from, for the error line. */
  static parse(text: string, source = 'database URL'): DatabaseUrl {
    let url: URL;
    try {
      url = new URL(text.trim());
    } catch {
      throw new UsageError(
        `${source} is not a valid URL`,
        'expected postgres://user:password@host:5432/database',
      );
    }
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
      throw new UsageError(`${source} must start with postgres:// or postgresql://`);
    }
    try {
      return new DatabaseUrl(url);
    } catch (error) {
      if (error instanceof URIError) throw new UsageError(`${source} has an invalid %-escape`);
      throw error;
    }
  }

  get password(): string | undefined {
    return lastParam(this.#url, 'password') ?? (this.#url.password ? decode(this.#url.password) : undefined);
  }

  /** What connect() passes to pg besides the URL: the parameters resolved when this URL was parsed. */
  resolvedParams(): ResolvedParams {
    return { host: this.host, port: this.port, database: this.database, user: this.user };
  }

  /** The real URL, password included. Pass it to the driver only. */
  connectionString(): string {
    return this.#url.toString();
  }

  /**
   * The real URL without its TLS parameters, for node-postgres: pg-connection-string reads `sslmode`
   * its own way (`require` verifies the certificate) and would override the `ssl` options that
   * `pgClientConfig` derives from them with libpq's semantics.
   */
  driverConnectionString(): string {
    const url = new URL(this.#url.toString());
    for (const name of tlsParameters) url.searchParams.delete(name);
    return url.toString();
  }

  /** The same server and credentials, another database. */
  withDatabase(database: string): DatabaseUrl {
    const url = new URL(this.#url.toString());
    url.pathname = `/${encodeURIComponent(database)}`;
    url.searchParams.delete('dbname');
    return new DatabaseUrl(url);
  }

  /** host:port/database, for identity comparison (export source vs replay target). */
  identity(): string {
    return `${this.host.toLowerCase()}:${this.port}/${this.database}`;
  }

  toString(): string {
    const url = new URL(this.#url.toString());
    if (url.password) url.password = '***';
    if (url.searchParams.has('password')) url.searchParams.set('password', '***');
    if (url.searchParams.has('sslpassword')) url.searchParams.set('sslpassword', '***');
    return url
      .toString()
      .replace(/=\*\*\*/g, '=***')
      .replace(/%2A%2A%2A/g, '***');
  }

  toJSON(): string {
    return this.toString();
  }
}

/** libpq's TLS connection parameters (handled by postgres/tls.ts, never by the driver's own parser). */
const tlsParameters = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'sslpassword', 'ssl', 'sslcrl'];

function lastParam(url: URL, name: string): string | undefined {
  const values = url.searchParams.getAll(name);
  return values.length > 0 ? values[values.length - 1] : undefined;
}

function decode(text: string): string {
  return decodeURIComponent(text);
}

/**
 * pg's resolution of the (TLS-free) URL: host, port, database and user the URL leaves out come from
 * PGHOST/PGPORT/PGDATABASE/PGUSER as the driver reads them. Explicit URL values stay as parsed above.
 */
function resolveParams(
  connectionString: string,
  host: string,
  port: number,
  database: string,
  user: string,
): ResolvedParams {
  const url = new URL(connectionString);
  const client = new Client({ connectionString });
  const explicitHost = url.hostname !== '' || url.searchParams.has('host');
  const explicitPort = url.port !== '' || url.searchParams.has('port');
  const explicitDb = url.pathname.replace(/^\//, '') !== '' || url.searchParams.has('dbname');
  const explicitUser = url.username !== '' || url.searchParams.has('user');
  return {
    host: explicitHost ? host : client.host || host,
    port: explicitPort ? port : Number(client.port) || port,
    database: explicitDb ? database : client.database || database,
    user: explicitUser ? user : client.user || user,
  };
}
