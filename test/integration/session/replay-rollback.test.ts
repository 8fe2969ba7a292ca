import { connect } from 'node:net';

import pg from 'pg';
import { serialize } from 'pg-protocol';
import { describe, expect } from 'vitest';

import type { RecordingProxyOptions } from '../../../src/services/record.js';
import { replaySession } from '../../../src/services/replay.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';
import { seedTable, tableContents } from './helpers.js';
import { recordThrough } from './real-clients/record-tool.js';

async function recordWith(
  db: TestDatabase,
  work: (port: number) => Promise<void>,
  extra: Partial<RecordingProxyOptions> = {},
): Promise<string> {
  return (await recordThrough(db.url, work, extra)).file;
}

async function withClient(port: number, work: (client: pg.Client) => Promise<void>): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'app_user', password: 'app-pw' });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}

describe('replay --rollback never commits and replays what drivers send', () => {
  dbTest('a multi-statement string with COMMIT inside changes nothing', async ({ db }) => {
    await db.query(seedTable);
    const file = await recordWith(db, (port) =>
      withClient(port, async (client) => {
        await client.query(
          "insert into test_data (name, value) values ('a', 1); commit; update test_data set value = value + 1; select count(*) from test_data where name = 'test1'",
        );
        await client.query(
          "begin; insert into test_data (name, value) values ('b', 2); commit and chain; rollback",
        );
      }),
    );
    const before = await tableContents(db);
    const replay = await replaySession({ file, databaseUrl: db.url, rollback: true, ignoreColumns: ['id'] });
    expect(await tableContents(db)).toEqual(before);
    expect(replay.newErrors).toBe(0);
    expect(replay.queries[0]).toMatchObject({ verdict: 'matched' });
  });

  dbTest(
    'a transaction recovered with ROLLBACK TO SAVEPOINT commits; isolation levels replay',
    async ({ db }) => {
      await db.query(seedTable);
      const file = await recordWith(db, (port) =>
        withClient(port, async (client) => {
          await client.query('begin isolation level serializable');
          await client.query("insert into test_data (name, value) values ('kept', 5)");
          await client.query('savepoint s1');
          await expect(client.query('select 1/0')).rejects.toThrow('division by zero');
          await client.query('rollback to savepoint s1');
          await client.query('commit');
          await client.query("select name from test_data where name = 'kept'");
          await client.query('begin');
          await client.query('set transaction isolation level repeatable read, read only');
          await client.query('select count(*) from test_data');
          await client.query('commit');
        }),
      );
      const before = await tableContents(db);
      await db.query("delete from test_data where name = 'kept'");
      const replay = await replaySession({ file, databaseUrl: db.url, rollback: true });
      expect(replay.ok).toBe(true);
      expect(replay.newErrors).toBe(0);
      // The row inserted before the recovered error is there after the replayed COMMIT.
      expect(replay.queries.find((query) => query.sql.includes("name = 'kept'"))).toMatchObject({
        verdict: 'matched',
        rowCount: 1,
      });
      expect((await tableContents(db)).length).toBe(before.length - 1);
    },
  );

  dbTest('declared parameter types are sent back: binary int8 into an int4 context', async ({ db }) => {
    const file = await recordWith(db, async (port) => {
      const socket = connect({ host: '127.0.0.1', port });
      await new Promise((resolve) => socket.once('connect', resolve));
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      const ready = async (count: number) => {
        while (received.split('Z\0\0\0\x05').length - 1 < count) await new Promise((r) => setTimeout(r, 20));
      };
      socket.write(
        Buffer.concat([serialize.startup({ user: 'app_user', database: 'x' }), serialize.password('app-pw')]),
      );
      await ready(1);
      const eight = Buffer.alloc(8);
      eight.writeBigInt64BE(41n);
      socket.write(
        Buffer.concat([
          serialize.parse({ text: 'select $1 + 1 as n', types: [20] }),
          serialize.bind({ values: [eight], valueMapper: (value) => value as Buffer }),
          serialize.describe({ type: 'P' }),
          serialize.execute({}),
          serialize.sync(),
        ]),
      );
      await ready(2);
      socket.end(serialize.end());
    });
    const replay = await replaySession({ file, databaseUrl: db.url, rollback: true });
    expect(replay.queries.map((query) => query.verdict)).toEqual(['matched']);
  });

  dbTest('a capped result is compared by count and digest of all its rows', async ({ db }) => {
    await db.query('create table big as select g as id, md5(g::text) as h from generate_series(1, 3000) g');
    const file = await recordWith(
      db,
      (port) =>
        withClient(port, async (client) => void (await client.query('select id, h from big order by id'))),
      { maxRecordedRows: 50 },
    );
    expect((await replaySession({ file, databaseUrl: db.url, rollback: true })).ok).toBe(true);
    await db.query("update big set h = 'changed' where id = 2500");
    const changed = await replaySession({ file, databaseUrl: db.url, rollback: true });
    expect(changed.queries[0]).toMatchObject({
      verdict: 'mismatched',
      diff: 'rows differ beyond the first 50 (digest)',
    });
  });
});
