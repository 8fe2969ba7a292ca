import { describe, expect } from 'vitest';

import { dbTest, type TestDatabase } from '../../../setup/database.js';
import {
  findTool,
  libpqEnv,
  queriesOf,
  recordThrough,
  replayMatches,
  reportMissing,
  run,
} from './record-tool.js';

/**
 * pgbench (libpq, written by the PostgreSQL project) drives the proxy in its three query modes with
 * the select-only and the default TPC-B-like scripts, one client so the replay meets the same data.
 * Its tables are initialised directly (not through the proxy), and again before each replay.
 */
const pgbench = findTool('/usr/bin/pgbench', '/usr/lib/postgresql/15/bin/pgbench');
reportMissing('pgbench', pgbench === undefined);

async function initTables(db: TestDatabase): Promise<void> {
  await run(pgbench!, ['-i', '-q', '-s', '1', db.url.connectionString()], { timeout: 120_000 });
}

async function tablesDigest(db: TestDatabase): Promise<unknown[]> {
  return await db.query(`select
    (select sum(abalance)::text from pgbench_accounts) as accounts,
    (select sum(bbalance)::text from pgbench_branches) as branches,
    (select sum(tbalance)::text from pgbench_tellers) as tellers,
    (select count(*)::text from pgbench_history) as history,
    (select md5(string_agg(aid::text || ':' || abalance, ',' order by aid)) from pgbench_accounts where abalance <> 0) as changed`);
}

const cases: { mode: string; script: string[] }[] = [];
for (const mode of ['simple', 'extended', 'prepared'])
  for (const script of [['-S'], []]) cases.push({ mode, script });

describe.skipIf(pgbench === undefined)(
  'pgbench through the recording proxy, replayed with --rollback',
  () => {
    for (const { mode, script } of cases) {
      const name = `${script.length > 0 ? 'select-only' : 'TPC-B-like'} -M ${mode}`;
      dbTest(`pgbench ${name}`, { timeout: 180_000 }, async ({ db }) => {
        await initTables(db);
        const recording = await recordThrough(db.url, async (port) => {
          const result = await run(pgbench!, [...script, '-M', mode, '-c', '1', '-t', '150'], {
            env: libpqEnv(port),
            timeout: 120_000,
          });
          expect(result.stdout).toContain('number of transactions actually processed: 150/150');
        });
        const statements = script.length > 0 ? 1 : 7;
        // pgbench's first connection prepares (vacuum, truncate history), the second runs the script.
        expect(recording.sessions.length).toBe(2);
        expect(queriesOf(recording.sessions[1]!.events).length).toBeGreaterThanOrEqual(150 * statements);
        await initTables(db);
        const before = await tablesDigest(db);
        let matched = 0;
        for (const session of recording.sessions)
          matched += (await replayMatches(session.file, db.url)).matched;
        expect(matched).toBeGreaterThanOrEqual(150 * (script.length > 0 ? 1 : 5));
        expect(await tablesDigest(db)).toEqual(before);
      });
    }
  },
);
