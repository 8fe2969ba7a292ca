import pg from 'pg';

import { UsageError } from '../errors.js';
import { registerSecret } from '../secrets.js';

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
  private constructor(url: URL, resolved: ResolvedParams) {
    this.#url = url;
    this.host = resolved.host;
    this.port = resolved.port;
    this.database = resolved.database;
    this.user = resolved.user;
    registerSecret(this.password);
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
    return new DatabaseUrl(url, resolveParams(url, source));
  }

  get password(): string | undefined {
    return this.#url.password ? safeDecode(this.#url.password) : undefined;
  }

  /** What connect() passes to pg besides the URL: the parameters resolved when this URL was parsed. */
  resolvedParams(): ResolvedParams {
    return { host: this.host, port: this.port, database: this.database, user: this.user };
  }

  /** The real URL, password included. Pass it to the driver only. */
  connectionString(): string {
    return this.#url.toString();
  }

  /** The same server and credentials, another database. */
  withDatabase(database: string): DatabaseUrl {
    const url = new URL(this.#url.toString());
    url.pathname = `/${encodeURIComponent(database)}`;
    return new DatabaseUrl(url, resolveParams(url, 'database URL'));
  }

  /** host:port/database, for identity comparison (export source vs replay target). */
  identity(): string {
    return `${this.host.toLowerCase()}:${this.port}/${this.database}`;
  }

  toString(): string {
    const url = new URL(this.#url.toString());
    if (url.password) url.password = '***';
    return url.toString();
  }

  toJSON(): string {
    return this.toString();
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * pg's parse of the URL (pg-connection-string inside pg.Client, with its env fallbacks). Bad escapes
 * (`%zz`) and unreadable `sslcert`/`sslkey`/`sslrootcert` files (pg reads them while parsing) become
 * one-line usage errors instead of internal ones.
 */
function resolveParams(url: URL, source: string): ResolvedParams {
  for (const part of [url.username, url.password, url.pathname, url.hostname]) {
    try {
      decodeURIComponent(part);
    } catch {
      throw new UsageError(`${source} has a bad %-escape`, 'percent-encode special characters as %XX');
    }
  }
  let client: pg.Client;
  try {
    client = new pg.Client({ connectionString: url.toString() });
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    const what =
      err.code === 'ENOENT' || err.code === 'EACCES'
        ? `cannot read a file it names (${err.code})`
        : 'cannot be parsed';
    const file = typeof err.path === 'string' ? `: ${err.path}` : '';
    throw new UsageError(
      `${source} ${what}${file}`,
      'check sslcert/sslkey/sslrootcert paths and the URL syntax',
    );
  }
  return {
    host: client.host || 'localhost',
    port: Number(client.port) || 5432,
    database: client.database ?? '',
    user: client.user ?? '',
  };
}
