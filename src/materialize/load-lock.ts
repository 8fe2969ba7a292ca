import type pg from 'pg';

import { DatabaseError } from '../errors.js';
import type { DatabaseUrl } from '../postgres/database-url.js';
import { toDatabaseError } from '../postgres/errors.js';

/** Advisory lock key of "a materialize is loading this database" (advisory locks are per database). */
export const loadLockKey = 7_265_726_530; // "replay-env" materialize; any fixed bigint would do

/**
 * Takes the per-database load lock for this session (released when the connection closes). Two loads
 * into one database would otherwise interleave deletes and inserts and fail with a misleading foreign
 * key or duplicate key error; the second one now stops at once with a clear line.
 */
export async function takeLoadLock(client: pg.Client, url: DatabaseUrl): Promise<void> {
  let got: boolean;
  try {
    const { rows } = await client.query<{ got: boolean }>('select pg_try_advisory_lock($1) as got', [
      loadLockKey,
    ]);
    got = rows[0]?.got === true;
  } catch (error) {
    throw toDatabaseError(error, { url, action: 'replay database' });
  }
  if (!got) {
    throw new DatabaseError(`replay database ${url.identity()}: another load is in progress`, {
      code: 'materialize_in_progress',
      hint: 'wait for the other materialize (or run) to finish, then try again',
    });
  }
}
