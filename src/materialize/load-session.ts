import type pg from 'pg';

import type { DatabaseUrl } from '../postgres/database-url.js';
import { extendedQuery } from '../postgres/one-statement.js';
import type { Sql } from './sql.js';

export type MaterializePhase = 'stage' | 'check' | 'delete' | 'upsert' | 'verify' | 'commit';

/** Phase timings of one load (ms); `end(phase)` adds the time since the previous `end` to that phase. */
export function phaseTimer(): {
  phases: Record<MaterializePhase, number>;
  end(phase: MaterializePhase): void;
} {
  const phases: Record<MaterializePhase, number> = {
    stage: 0,
    check: 0,
    delete: 0,
    upsert: 0,
    verify: 0,
    commit: 0,
  };
  let since = performance.now();
  return {
    phases,
    end(phase) {
      const now = performance.now();
      phases[phase] += Math.round(now - since);
      since = now;
    },
  };
}

/** Runs one statement of the load; a failure becomes the labelled one-line error `toError` makes. */
export function statementRunner(
  client: pg.Client,
  url: DatabaseUrl,
  toError: (error: unknown, sql: Sql, url: DatabaseUrl) => Error,
): (sql: Sql) => Promise<pg.QueryResult> {
  return async (sql) => {
    try {
      // Extended protocol: a deletePredicate cannot stack a second statement behind the delete.
      return await client.query(extendedQuery(sql.text, sql.values));
    } catch (error) {
      throw toError(error, sql, url);
    }
  };
}
