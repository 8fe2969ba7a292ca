import type pg from 'pg';

import type { Sql } from './sql.js';

/**
 * Runs `steps` (a `lock table … nowait` and the drops it guards) in a savepoint; false, with everything
 * they did undone, when any fails: another session holds or awaits a lock, an owner who revoked their
 * own privileges, a referenced table with checks still pending in this transaction. The caller then
 * leaves its objects in place; the savepoint keeps the load's transaction usable. Plain SQL, not a DO
 * block: a replay database may revoke plpgsql from PUBLIC (a common hardening).
 */
export async function inSavepoint(
  label: string,
  run: (sql: Sql) => Promise<pg.QueryResult>,
  steps: () => Promise<void>,
): Promise<boolean> {
  await run({ text: `${label} savepoint replay_table_lock`, values: [] });
  try {
    await steps();
  } catch {
    await run({ text: `${label} rollback to savepoint replay_table_lock`, values: [] });
    return false;
  }
  await run({ text: `${label} release savepoint replay_table_lock`, values: [] });
  return true;
}
