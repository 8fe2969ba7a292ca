import pg from 'pg';
import { describe, expect } from 'vitest';

import { replaySession } from '../../../src/services/replay.js';
import { dbTest } from '../../setup/database.js';
import { seedTable, startTestProxy, tableContents } from './helpers.js';

// Postgres reads a comment as whitespace and ends a -- comment at \r as well as \n: these statements are
// COMMITs to the server. Replayed as-is inside the --rollback transaction they would commit it.
const disguisedCommits = ['commit/* c */', 'commit--c', '-- c\rcommit', 'end/**/'];

describe('replay --rollback: COMMIT disguised by comments', () => {
  dbTest('never commits the replay transaction', async ({ db }) => {
    await db.query(seedTable);
    const proxy = await startTestProxy(db.url, 'replay-rollback-comments', {
      pseudoUsers: [{ name: 'app_user', password: 'app-pw' }],
    });
    try {
      const client = new pg.Client({
        host: '127.0.0.1',
        port: proxy.address.port,
        user: 'app_user',
        password: 'app-pw',
      });
      await client.connect();
      for (const commit of disguisedCommits) {
        await client.query('begin');
        await client.query("insert into test_data (name, value) values ('x', 1)");
        await client.query(commit).catch(() => {});
      }
      await client.end();
    } finally {
      await proxy.close();
    }
    await db.query("delete from test_data where name = 'x'");
    const before = await tableContents(db);
    await replaySession({
      file: proxy.sessionFiles()[0]!,
      databaseUrl: db.url,
      rollback: true,
      ignoreColumns: ['id'],
    });
    expect(await tableContents(db)).toEqual(before);
  });
});
