import pg from 'pg';

import type { DatabaseUrl } from './database-url.js';
import { toDatabaseError } from './errors.js';

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
}

/** Opens one client connection; every failure becomes a one-line DatabaseError without the password. */
export async function connect(url: DatabaseUrl, options: ConnectOptions = {}): Promise<pg.Client> {
  const client = new pg.Client({
    // The parameters resolved at parse time first; the URL's own values override them (pg merges the
    // parsed connection string over the config), so PG* env changes after parsing cannot move us.
    ...url.resolvedParams(),
    connectionString: url.connectionString(),
    application_name: options.applicationName ?? 'replay-env',
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
    ...(options.readOnlySession ? { options: '-c default_transaction_read_only=on' } : {}),
  });
  // An idle client whose server goes away emits 'error'; without a listener node would crash the process.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw toDatabaseError(error, { url, action: options.action ?? 'connect' });
  }
  return client;
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
