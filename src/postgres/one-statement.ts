import type pg from 'pg';

import { ManifestError } from '../errors.js';
import type { DatabaseUrl } from './database-url.js';
import { toDatabaseError } from './errors.js';

/**
 * Query config for the extended protocol (Parse/Bind/Execute), whatever the values: a prepared statement
 * holds exactly one command, so SQL from a manifest or a probe cannot stack `; commit; update …` behind
 * the statement it was spliced into. The server refuses a second command with 42601 "cannot insert
 * multiple commands into a prepared statement". (pg only uses the extended protocol by itself when there
 * are values; `queryMode` is missing from @types/pg.)
 */
export function extendedQuery(text: string, values: unknown[] = []): pg.QueryConfig {
  return { text, values, queryMode: 'extended' } as pg.QueryConfig;
}

/** True for the server's refusal of a second command in one Parse. */
export function isMultipleCommands(error: unknown): boolean {
  const pgError = error as { code?: string; message?: string } | undefined;
  return pgError?.code === '42601' && /multiple commands/.test(pgError.message ?? '');
}

/** The one-line manifest error for SQL that holds more than one statement. */
export function multipleStatementsError(what: string): ManifestError {
  return new ManifestError(
    `${what}: the SQL holds more than one statement (only one statement is allowed)`,
    [],
    'remove the ";" and anything after it',
  );
}

/**
 * Proves that `select` is exactly one statement before it is spliced into a simple-protocol COPY (which
 * the extended protocol cannot run): the server parses `explain <select>` in one Parse message, which
 * rejects a second command, and EXPLAIN plans without executing. A one-statement SELECT wrapped as
 * `copy (\n<select>\n) to stdout …` stays one statement: every string, comment and dollar quote it
 * opens it also closed, or the Parse would have failed.
 */
export async function assertOneStatement(
  client: pg.Client,
  url: DatabaseUrl,
  select: string,
  what: string,
): Promise<void> {
  const text = `explain ${select}`;
  try {
    await client.query(extendedQuery(text));
  } catch (error) {
    if (isMultipleCommands(error)) throw multipleStatementsError(what);
    throw toDatabaseError(error, { url, sql: text, action: what });
  }
}
