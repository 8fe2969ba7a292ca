import pg from 'pg';
import { describe, expect } from 'vitest';

import { replaySession } from '../../../src/services/replay.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';
import { seedTable, tableContents } from './helpers.js';
import { pseudo, recordThrough, resultsOf } from './real-clients/record-tool.js';

/** Records `statements` (one simple query each) through the proxy, then replays with --rollback. */
async function recordAndReplay(db: TestDatabase, statements: string[]) {
  await db.query(seedTable);
  const recording = await recordThrough(db.url, async (port) => {
    const client = new pg.Client({ host: '127.0.0.1', port, user: pseudo.user, password: pseudo.password });
    await client.connect();
    for (const sql of statements) await client.query(sql);
    await client.end();
  });
  await db.query(`delete from test_data where name = 'inside'`);
  const before = await tableContents(db);
  const replay = await replaySession({ file: recording.file, databaseUrl: db.url, rollback: true });
  expect(await tableContents(db)).toEqual(before);
  const shown = resultsOf(recording.events).find((result) => result.columns[0] === 'transaction_isolation');
  return { replay, shown: shown?.rows };
}

describe('replay --rollback keeps the recorded isolation level', () => {
  for (const [name, statements, level] of [
    [
      'BEGIN ISOLATION LEVEL REPEATABLE READ',
      [
        'begin isolation level repeatable read',
        'show transaction_isolation',
        "insert into test_data (name, value) values ('inside', 1)",
        'commit',
      ],
      'repeatable read',
    ],
    [
      'SET TRANSACTION ISOLATION LEVEL SERIALIZABLE (pg_dump style)',
      [
        'begin',
        'set transaction isolation level serializable, read only, deferrable',
        'show transaction_isolation',
        'commit',
      ],
      'serializable',
    ],
    [
      'SET default_transaction_isolation',
      [
        "set default_transaction_isolation = 'repeatable read'",
        'start transaction',
        'show transaction_isolation',
        'commit',
      ],
      'repeatable read',
    ],
  ] as const) {
    dbTest(name, async ({ db }) => {
      const { replay, shown } = await recordAndReplay(db, [...statements]);
      // Recorded at this level; the replay's `show` matched it (it would say 'read committed' otherwise).
      expect(shown).toEqual([[level]]);
      const show = replay.queries.find((query) => query.sql === 'show transaction_isolation');
      expect(show).toMatchObject({ verdict: 'matched', rowCount: 1 });
      expect(replay.ok).toBe(true);
      expect(await db.query(`select count(*)::int as n from test_data where name = 'inside'`)).toEqual([
        { n: 0 },
      ]);
    });
  }
});
