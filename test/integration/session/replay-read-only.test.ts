import pg from 'pg';
import { describe, expect } from 'vitest';

import { replaySession } from '../../../src/services/replay.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';
import { seedTable, tableContents } from './helpers.js';
import { pseudo, recordThrough, replayMatches, reseed, resultsOf } from './real-clients/record-tool.js';

/** Records `statements` with node-postgres (one simple query each; errors are part of the session). */
async function record(db: TestDatabase, statements: string[]) {
  await db.query(seedTable);
  const recording = await recordThrough(db.url, async (port) => {
    const client = new pg.Client({ host: '127.0.0.1', port, user: pseudo.user, password: pseudo.password });
    await client.connect();
    for (const sql of statements) await client.query(sql).catch(() => {});
    await client.end();
  });
  await reseed(db);
  return recording;
}

const names = async (db: TestDatabase) =>
  (await db.query<{ name: string }>('select name from test_data order by id')).map((row) => row.name);

// Each `show` is compared with what the recording answered; each write in a read-only transaction
// must fail again with 25006 (not succeed and change the table); writes after one must work again.
const mixed = [
  'begin read only',
  'show transaction_read_only',
  "insert into test_data (name, value) values ('in read-only', 1)",
  'rollback',
  'start transaction',
  'set transaction read only',
  'show transaction_read_only',
  'commit',
  'begin',
  'show transaction_read_only',
  "insert into test_data (name, value) values ('read-write', 2)",
  'commit',
  'set default_transaction_read_only = on',
  'show transaction_read_only',
  "insert into test_data (name, value) values ('default read-only', 3)",
  'begin',
  'show transaction_read_only',
  'commit',
  'set session characteristics as transaction read write',
  "insert into test_data (name, value) values ('after', 4)",
];

describe('replay keeps READ ONLY and DEFERRABLE', () => {
  dbTest('per transaction and session default, with --rollback and --commit', async ({ db }) => {
    const recording = await record(db, mixed);
    const shows = resultsOf(recording.events).filter(
      (result) => result.columns[0] === 'transaction_read_only',
    );
    expect(shows.map((result) => result.rows[0]![0])).toEqual(['on', 'on', 'off', 'on', 'on']);
    expect(resultsOf(recording.events).filter((result) => result.error?.code === '25006')).toHaveLength(2);

    const before = await tableContents(db);
    const rolledBack = await replayMatches(recording.file, db.url);
    expect(rolledBack.queries.filter((query) => query.verdict === 'error-matched')).toHaveLength(2);
    expect(await tableContents(db)).toEqual(before);

    const committed = await replaySession({ file: recording.file, databaseUrl: db.url, rollback: false });
    expect(
      committed.queries.filter((query) => query.verdict === 'mismatched' || query.verdict === 'new-error'),
    ).toEqual([]);
    expect(await names(db)).toEqual(['test1', 'test2', 'test3', 'read-write', 'after']);
  });

  for (const [name, statements] of [
    [
      'BEGIN … SERIALIZABLE READ ONLY DEFERRABLE',
      ['begin isolation level serializable read only deferrable'],
    ],
    [
      'SET TRANSACTION … DEFERRABLE (pg_dump --serializable-deferrable)',
      [
        'set search_path = public',
        'begin',
        'set transaction isolation level serializable, read only, deferrable',
      ],
    ],
  ] as const) {
    dbTest(`a read-only session runs in one ${name} transaction`, async ({ db }) => {
      const recording = await record(db, [
        ...statements,
        'show transaction_deferrable',
        'show transaction_read_only',
        'select count(*) from test_data',
        "insert into test_data (name, value) values ('refused', 1)",
        'commit',
      ]);
      const shown = resultsOf(recording.events)
        .filter((result) => result.columns[0]?.startsWith('transaction_'))
        .map((result) => result.rows[0]![0]);
      expect(shown).toEqual(['on', 'on']);
      // The replay's `show transaction_deferrable` says "on" only if its transaction is deferrable.
      const replay = await replayMatches(recording.file, db.url);
      expect(replay.queries.find((query) => query.sql === 'show transaction_deferrable')?.verdict).toBe(
        'matched',
      );
      const committed = await replaySession({ file: recording.file, databaseUrl: db.url, rollback: false });
      expect(committed.ok).toBe(true);
      expect(await names(db)).toEqual(['test1', 'test2', 'test3']);
    });
  }
});
