import { DatabaseError, oneLine } from '../errors.js';
import { scrubSecrets } from '../secrets.js';
import type { DatabaseUrl } from './database-url.js';

interface PgErrorLike {
  code?: string;
  message?: string;
  position?: string;
  detail?: string;
  hint?: string;
  where?: string;
  errno?: number;
  syscall?: string;
  hostname?: string;
}

/** Network failures from node's socket layer, mapped to what a user should check. */
const networkCodes: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is Postgres running and listening there?)',
  ENOTFOUND: 'host not found (DNS lookup failed)',
  EAI_AGAIN: 'host not found (DNS lookup timed out)',
  ETIMEDOUT: 'connection timed out',
  ECONNRESET: 'connection reset by the server',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/** Postgres SQLSTATEs with a better one-line explanation than the server's message. */
const sqlStateHints: Record<string, string> = {
  '28P01': 'check the user name and password in the database URL',
  '28000': 'the server refused this user (pg_hba.conf or role settings)',
  '3D000': 'create the database first, or fix the database name in the URL',
  '25006': 'the statement tried to write inside a read-only transaction',
  '57014': 'the statement was cancelled (statement_timeout or a cancel request)',
  '57P01': 'the server ended the connection: pg_terminate_backend() by an administrator, or a shutdown',
  '42P01': 'a table in the SQL does not exist in this database',
  '42703': 'a column in the SQL does not exist',
};

/**
 * Turns any error from `pg` into a one-line DatabaseError that names the database (never its password)
 * and, for a SQL error with a position, shows the SQL around it so the manifest entry can be found.
 */
export function toDatabaseError(
  error: unknown,
  context: { url?: DatabaseUrl; sql?: string; action?: string } = {},
): DatabaseError {
  if (error instanceof DatabaseError) return error;
  const pgError = (error ?? {}) as PgErrorLike;
  const where = context.url ? ` (${context.url.identity()})` : '';
  const action = context.action ?? 'database';
  const networkReason = pgError.code ? networkCodes[pgError.code] : undefined;
  if (networkReason) {
    return new DatabaseError(oneLine(`${action}: cannot connect${where}: ${networkReason}`), {
      code: 'database_unreachable',
      cause: error,
    });
  }
  const message = scrubSecrets(oneLine(pgError.message ?? String(error)));
  // pg's "Client has encountered a connection error and is not queryable": an idle connection was ended
  // (its own error event came with no query to fail), and this is the next query on it.
  if (/Connection terminated|connection timeout|Connection ended|not queryable/i.test(message)) {
    return new DatabaseError(oneLine(`${action}: connection lost${where}: ${message}`), {
      code: 'database_connection_lost',
      hint: 'the server ended the connection (pg_terminate_backend(), a restart, idle timeouts) or the network dropped it',
      cause: error,
    });
  }
  const sqlState = pgError.code && /^[0-9A-Z]{5}$/.test(pgError.code) ? pgError.code : undefined;
  const excerpt =
    context.sql && pgError.position ? ` near: ${sqlExcerpt(context.sql, Number(pgError.position))}` : '';
  const detail = pgError.detail ? ` (${scrubSecrets(oneLine(pgError.detail))})` : '';
  return new DatabaseError(oneLine(`${action}${where}: ${message}${detail}${excerpt}`), {
    sqlState,
    hint: sqlState ? sqlStateHints[sqlState] : undefined,
    cause: error,
    code: sqlState === '28P01' || sqlState === '28000' ? 'database_auth_failed' : 'database_error',
  });
}

/**
 * ~60 characters of SQL around a 1-based error position, with the nearest preceding label comment
 * (`/* tables[orders].where *\/`) so the user knows which manifest entry to fix.
 */
export function sqlExcerpt(sql: string, position: number): string {
  const index = Math.max(0, Math.min(sql.length, position - 1));
  const before = sql.slice(0, index);
  const labels = [...before.matchAll(/\/\* ([^*]+?) \*\//g)];
  const label = labels.length > 0 ? `[${labels[labels.length - 1]![1]}] ` : '';
  const start = Math.max(0, index - 30);
  const snippet = sql.slice(start, index + 30).replace(/\s+/g, ' ');
  return `${label}"${start > 0 ? '…' : ''}${snippet}${index + 30 < sql.length ? '…' : ''}"`;
}
