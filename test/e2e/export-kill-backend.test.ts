import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { execa } from 'execa';
import { expect } from 'vitest';

import { runJs } from '../setup/cli.js';
import { dbTest, type TestDatabase } from '../setup/database.js';
import { exportArgs } from '../setup/load-command.js';

/** The export's backends of this database that are still running a statement. */
const activeExport = (db: TestDatabase) =>
  db.query(
    `select pid from pg_stat_activity where datname = current_database()
       and application_name = 'replay-env export' and state = 'active'`,
  );

// The source is production: a CLI killed (kill -9, or a Ctrl-C) while the server computes a table's
// rows before sending the first one (a long sort, here a sleep) must not leave that statement running
// there for minutes. The server checks every second that the client is still there
// (client_connection_check_interval, set by the export).
dbTest.for(['SIGKILL', 'SIGINT'] as const)(
  '%s of the CLI during a long statement: the source server ends it within seconds',
  async (signal, { db, skip }) => {
    const version = await db.query<{ v: number }>(`select current_setting('server_version_num')::int as v`);
    if (version[0]!.v < 140000) skip('PostgreSQL < 14 has no client_connection_check_interval');
    await db.query(`create table notes (id int primary key, owner text not null);
      insert into notes select i, 'me' from generate_series(1, 10) i;`);
    const dir = await mkdtemp(join(tmpdir(), 'export-kill-backend-'));
    const app = join(dir, 'app.json');
    await writeFile(
      app,
      JSON.stringify({
        appId: 'slow',
        adapter: 'postgres-subject-graph.v1',
        subjectKeys: ['owner'],
        postgres: {
          tables: [
            { name: 'notes', where: 't.owner = (select owner from params) and pg_sleep(60) is not null' },
          ],
        },
      }),
    );
    const child = execa(
      'node',
      [runJs, ...exportArgs(app, { owner: 'me' }, db.url.connectionString(), join(dir, 'c.json'))],
      { reject: false },
    );
    const sleeping = () =>
      db.query(`select pid from pg_stat_activity where datname = current_database()
        and application_name = 'replay-env export' and query like '%pg_sleep(60)%' and state = 'active'
        and query not like 'explain%'`);
    for (let i = 0; i < 600 && (await sleeping()).length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await sleeping()).not.toEqual([]);
    child.kill(signal);
    await child;
    const killed = performance.now();
    for (let i = 0; i < 200 && (await activeExport(db)).length > 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await activeExport(db)).toEqual([]);
    expect(performance.now() - killed).toBeLessThan(10_000);
  },
);
