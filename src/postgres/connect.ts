import type pg from 'pg';

import { logger } from '../log.js';
import type { DatabaseUrl } from './database-url.js';
import { toDatabaseError } from './errors.js';
import { Client } from './pg.js';
import { describeNegotiated, type NegotiatedTls, tlsPlan } from './tls.js';

export interface ConnectOptions {
  /** Shown in pg_stat_activity, so a DBA can tell what is running. */
  applicationName?: string;
  connectTimeoutMs?: number;
  /** What the connection is for, used as the prefix of error lines ("export", "replay database"). */
  action?: string;
  statementTimeoutMs?: number;
  /**
   * Start the session with `default_transaction_read_only=on` (a startup option, so no SQL sent later
   * has to be trusted to set it): a second wall behind the READ ONLY export transaction.
   */
  readOnlySession?: boolean;
  /** Abandons the connection while it is being opened: its socket is destroyed and connect rejects. */
  signal?: AbortSignal;
  /**
   * The server checks every second, even inside a long statement, that the client is still there, and
   * ends the backend when it is gone (`client_connection_check_interval`, PostgreSQL ≥ 14 on Linux;
   * silently not set where the server lacks it): a CLI killed during a long sort or index build leaves
   * no statement running on, loading the source server or holding the load lock.
   */
  endWithClient?: boolean;
}

/** Where the server has no client_connection_check_interval (before 14, or not on Linux), the SET fails. */
const clientCheck = `set client_connection_check_interval = '1s'`;

/**
 * node-postgres settings for `url`: the URL without its TLS parameters plus `ssl` options built with
 * libpq's semantics (postgres/tls.ts). `tls` picks the attempt: with TLS or without (for the
 * fallbacks of `prefer` and `allow`). Every pg client of replay-env is configured here.
 */
export function pgClientConfig(url: DatabaseUrl, tls: 'tls' | 'plain' = 'tls'): pg.ClientConfig {
  const plan = tlsPlan(url);
  return {
    connectionString: url.driverConnectionString(),
    ssl: tls === 'tls' && plan.tls ? plan.tls : false,
  };
}

const negotiated = new WeakMap<pg.Client, NegotiatedTls>();

/** What TLS the connection of `client` (opened by `connect`) negotiated. */
export function negotiatedTls(client: pg.Client): NegotiatedTls | undefined {
  return negotiated.get(client);
}

/** Network failures after which a second attempt (TLS ↔ plaintext) cannot do better. */
const hopeless = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * Opens one client connection; every failure becomes a one-line DatabaseError without the password.
 * `sslmode=prefer` (the default) tries TLS and falls back to plaintext, `allow` the other way round,
 * as libpq does.
 */
export async function connect(url: DatabaseUrl, options: ConnectOptions = {}): Promise<pg.Client> {
  const plan = tlsPlan(url);
  const attempts: ('tls' | 'plain')[] =
    plan.mode === 'disable'
      ? ['plain']
      : plan.mode === 'prefer'
        ? ['tls', 'plain']
        : plan.mode === 'allow'
          ? ['plain', 'tls']
          : ['tls'];
  let lastError: unknown;
  for (const attempt of attempts) {
    const client = new Client({
      // Parameters resolved at parse time (PGHOST/PGPORT/PGDATABASE fallbacks included) first; the URL's
      // own values override them, so PG* env changes after parsing cannot move the connection.
      ...url.resolvedParams(),
      ...pgClientConfig(url, attempt),
      application_name: options.applicationName ?? 'replay-env',
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
      ...(options.readOnlySession ? { options: '-c default_transaction_read_only=on' } : {}),
    });
    // An idle client whose server goes away emits 'error'; without a listener node would crash the process.
    client.on('error', () => {});
    const abandon = () =>
      (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    options.signal?.addEventListener('abort', abandon, { once: true });
    try {
      if (options.signal?.aborted) throw new Error('connection abandoned');
      await client.connect();
    } catch (error) {
      await client.end().catch(() => {});
      lastError = error;
      if (options.signal?.aborted || hopeless.has((error as NodeJS.ErrnoException).code ?? '')) break;
      continue;
    } finally {
      options.signal?.removeEventListener('abort', abandon);
    }
    if (options.endWithClient) await client.query(clientCheck).catch(() => {});
    const stream = (client as unknown as { connection?: { stream?: unknown } }).connection?.stream;
    const tls = describeNegotiated(plan, stream);
    negotiated.set(client, tls);
    logger().info(
      { action: options.action ?? 'connect', target: url.identity(), tls: tls.summary },
      'connected',
    );
    return client;
  }
  throw toDatabaseError(lastError, { url, action: options.action ?? 'connect' });
}

/** Runs `work` with a connected client and always closes it. */
export async function withClient<T>(
  url: DatabaseUrl,
  options: ConnectOptions,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = await connect(url, options);
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}
