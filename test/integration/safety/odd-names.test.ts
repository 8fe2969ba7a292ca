import { expect } from 'vitest';

import { openCapsule } from '../../../src/capsule/index.js';
import { materialize } from '../../../src/services/materialize.js';
import { dbTest } from '../../setup/database.js';
import { exportAccount } from '../../setup/export-account.js';
import { manifestFrom } from '../export/helpers.js';

// #13 item 9: a table named like an Object.prototype member (`constructor`) exports,
// reads and materializes like any other.

const schema = `
  create table accounts (account_id text primary key);
  create table "constructor" (id int primary key, account_id text not null references accounts);
  insert into accounts values ('a1');
  insert into "constructor" values (1, 'a1'), (2, 'a1');
`;

dbTest('a table named constructor round-trips', async ({ db }) => {
  await db.query(schema);
  const parsed = manifestFrom({
    appId: 'odd',
    adapter: 'postgres-subject-graph.v1',
    subjectKeys: ['account_id'],
    postgres: {
      tableOrder: ['accounts', 'constructor'],
      tables: ['accounts', 'constructor'].map((name) => ({
        name,
        alias: 't',
        from: `"${name}" t`,
        where: 't.account_id in (select account_id from graph_keys)',
        deletePredicate: 't.account_id = g.account_id',
      })),
    },
  });
  const { out, result: exported } = await exportAccount(db, parsed);
  expect(exported.rowCounts).toEqual({ accounts: 1, constructor: 2 });
  const reader = await openCapsule(out);
  for await (const row of reader.rows()) expect(row.text.length).toBeGreaterThan(0);
  expect(reader.summary().integrity.status).toBe('verified');
  const replay = await db.sibling();
  await replay.query(schema.replace(/insert[^;]*;/g, ''));
  const result = await materialize({ manifest: parsed, capsulePath: out, databaseUrl: replay.url });
  expect(result.loaded).toEqual({ accounts: 1, constructor: 2 });
  expect(result.verified).toBe(true);
});

// A column named like the table's alias (the default alias is `t`): `to_jsonb(t)` would be that column,
// not the row; the default rowSql `to_jsonb(t.*)` is always the row.
dbTest('a column named like the default alias exports the whole row', async ({ db }) => {
  await db.query(`
    create table accounts (account_id text primary key, t text, r int);
    insert into accounts values ('a1', 'tee', 7), ('a2', 'other', 8);
  `);
  const parsed = manifestFrom({
    appId: 'odd',
    adapter: 'postgres-subject-graph.v1',
    subjectKeys: ['account_id'],
    postgres: {
      tables: [{ name: 'accounts', where: 't.account_id in (select account_id from graph_keys)' }],
    },
  });
  const { out, result: exported } = await exportAccount(db, parsed);
  expect(exported.rowCounts).toEqual({ accounts: 1 });
  const reader = await openCapsule(out);
  const rows: unknown[] = [];
  for await (const row of reader.rows()) rows.push(JSON.parse(row.text));
  expect(rows).toEqual([{ account_id: 'a1', t: 'tee', r: 7 }]);
  const replay = await db.sibling();
  await replay.query('create table accounts (account_id text primary key, t text, r int)');
  const result = await materialize({ manifest: parsed, capsulePath: out, databaseUrl: replay.url });
  expect(result.verified).toBe(true);
  expect(await replay.query('select account_id, t, r from accounts')).toEqual([
    { account_id: 'a1', t: 'tee', r: 7 },
  ]);
});
