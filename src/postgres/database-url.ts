import { UsageError } from '../errors.js';
import { registerSecret } from '../secrets.js';

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

  private constructor(url: URL) {
    this.#url = url;
    // A URL may use a unix socket via ?host=/path; the URL host is then empty.
    this.host = url.searchParams.get('host') ?? (decodeURIComponent(url.hostname) || 'localhost');
    this.port = url.port ? Number(url.port) : Number(url.searchParams.get('port') ?? 5432);
    this.database =
      decodeURIComponent(url.pathname.replace(/^\//, '')) || decodeURIComponent(url.username) || 'postgres';
    this.user = decodeURIComponent(url.username);
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
    return new DatabaseUrl(url);
  }

  get password(): string | undefined {
    return this.#url.password ? decodeURIComponent(this.#url.password) : undefined;
  }

  /** The real URL, password included. Pass it to the driver only. */
  connectionString(): string {
    return this.#url.toString();
  }

  /** The same server and credentials, another database. */
  withDatabase(database: string): DatabaseUrl {
    const url = new URL(this.#url.toString());
    url.pathname = `/${encodeURIComponent(database)}`;
    return new DatabaseUrl(url);
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
