import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, expect } from 'vitest';

import { dbTest } from '../../setup/database.js';
import { exportOwner, ownerManifest } from '../../setup/export-owner.js';
import { useTempDir } from '../../setup/temp-dir.js';

let dir: string;
useTempDir('closure-clock-', (path) => (dir = path));

afterEach(() => {
  delete process.env.REPLAY_ENV_EXPORT_CONNECTIONS;
});

// Closure's one-query path runs a child's where again, in another statement and maybe on the other
// connection (closure-direct.ts). A where that reads the clock selects other rows there: each connection
// has its own now(), each statement its own statement_timestamp(). Rows crossing the clock while the
// export runs — here 100,000 sessions, one expiring every 0.1 ms from 1 s before they are written —
// would leave parents of exported rows out (dangling references) or bring parents of rows not exported.
const sessionsSchema = (parents: string) => `
  ${parents}
  create table sessions (id int primary key, owner text not null, user_id int references users,
                         expires_at timestamptz not null);
  insert into sessions select i, 'me', i, clock_timestamp() - interval '1 s' + i * interval '0.1 ms'
    from generate_series(1, 100000) i;
`;

type Capsule = { tables: Record<string, Array<Record<string, number>>> };
const read = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as Capsule;
const ids = (rows: Array<Record<string, number>>, column: string) =>
  rows.map((row) => row[column]!).sort((a, b) => a - b);

const clocks = {
  'now()': 't.expires_at > now()',
  'statement_timestamp()': 't.expires_at > statement_timestamp()',
  current_timestamp: 't.expires_at > current_timestamp',
  $$now$$: 't.expires_at > $$now$$::timestamptz',
  // The connection rather than the clock: each connection selects another half.
  'pg_backend_pid()': 't.id % 2 = pg_backend_pid() % 2',
  // Not a clock read again: computed once (graph query) and handed to both connections. Kept on the
  // one-query path, which must give the same parents.
  "params' since_at": "t.expires_at > (select since_at from params) + interval '1 day'",
};

// One connection: one now(), but a statement_timestamp() per statement.
const cases = [...Object.keys(clocks).map((clock) => [clock, '2']), ['statement_timestamp()', '1']] as const;

for (const [clock, connections] of cases) {
  const expiry = clocks[clock as keyof typeof clocks];
  {
    dbTest(
      `a child whose where reads ${clock} (${connections} connection(s)): its parents exactly`,
      async ({ db }) => {
        process.env.REPLAY_ENV_EXPORT_CONNECTIONS = connections;
        await db.query(
          sessionsSchema(`create table orgs (id int primary key);
          create table users (id int primary key, org_id int references orgs);
          create table zz (id int primary key, owner text);
          insert into orgs select generate_series(1, 100);
          insert into users select i, i % 100 + 1 from generate_series(1, 100000) i;
          insert into zz values (1, 'me');`),
        );
        const manifest = ownerManifest('clock', {
          closure: 'parents',
          // zz first: users is not in a prefix of the load order, so it is closed by one query (or not).
          tableOrder: ['zz', 'orgs', 'users', 'sessions'],
          tables: [
            { name: 'zz', where: 't.owner = (select owner from params)' },
            { name: 'orgs', where: 'false' },
            { name: 'users', where: 'false' },
            { name: 'sessions', where: `t.owner = (select owner from params) and ${expiry}` },
          ],
        });
        const out = join(dir, 'c.json');
        await exportOwner(db, manifest, out);
        const { tables } = await read(out);
        const referenced = ids(tables.sessions!, 'user_id');
        expect(referenced.length).toBeGreaterThan(0);
        expect(referenced.length).toBeLessThan(100000);
        expect(ids(tables.users!, 'id')).toEqual(referenced);
        expect(ids(tables.orgs!, 'id')).toEqual([...new Set(ids(tables.users!, 'org_id'))]);
      },
    );
  }
}

// A parent's own query is never run again. The one query would leave the parent's own rows out that way
// (a clock read there selects other rows the second time: rows exported would come again); passed keys
// did, on the other connection, calling rows own that its now() — or its pg_backend_pid() — did not
// select there (those parents went missing). Own rows report their keys as they stream instead.
const parentClocks = {
  'statement_timestamp()': 't.expires_at > statement_timestamp()',
  'now()': 't.expires_at > now()',
  'pg_backend_pid()': 't.id % 2 = pg_backend_pid() % 2',
};
for (const [clock, where] of Object.entries(parentClocks)) {
  for (const closureDirect of [true, false]) {
    dbTest(
      `a parent whose own where reads ${clock} (${closureDirect ? 'one query' : 'passed keys'}): every referenced parent once`,
      async ({ db }) => {
        process.env.REPLAY_ENV_EXPORT_CONNECTIONS = '2';
        await db.query(`
        create table parents (id int primary key, expires_at timestamptz not null);
        create table kids (id int primary key, owner text not null, parent_id int references parents);
        insert into parents select i, clock_timestamp() - interval '1 s' + i * interval '0.1 ms'
          from generate_series(1, 100000) i;
        insert into kids select i, 'me', i from generate_series(1, 100000) i;
      `);
        const manifest = ownerManifest('clock', {
          closure: 'parents',
          tableOrder: ['parents', 'kids'],
          tables: [
            { name: 'parents', where },
            { name: 'kids', where: 't.owner = (select owner from params)' },
          ],
        });
        const out = join(dir, 'c.json');
        await exportOwner(db, manifest, out, { closureDirect });
        const { tables } = await read(out);
        expect(ids(tables.parents!, 'id')).toEqual(ids(tables.kids!, 'parent_id'));
      },
    );
  }
}
