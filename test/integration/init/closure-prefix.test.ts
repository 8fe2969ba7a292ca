import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { expect } from 'vitest';

import { materialize } from '../../../src/services/materialize.js';
import { filesBesidesAudit } from '../../setup/capsule-folder.js';
import { dbTest } from '../../setup/database.js';
import { exportOwner, ownerManifest } from '../../setup/export-owner.js';
import { useTempDir } from '../../setup/temp-dir.js';

let dir: string;
useTempDir('closure-prefix-', (path) => (dir = path));

const mine = 't.owner = (select owner from params)';
// The realistic benchmark's shape: users is wanted through logs' rows (a plain child after the prefix:
// one query joins it) and tickets' (keys passed, tickets itself completed from events by one query), orgs
// through users'. The prefix orgs, users, tickets is completed while events and logs are read.
const ddl = `
  create table orgs (id int primary key, owner text not null);
  create table users (id int primary key, owner text not null, org_id int references orgs);
  create table tickets (id bigint primary key, owner text not null, user_id int references users);
  create table events (id int primary key, owner text not null, ticket_id bigint references tickets);
  create table logs (id int primary key, owner text not null, user_id int references users);`;
const rows = `
  insert into orgs values (1, 'x'), (2, 'x'), (3, 'x'), (4, 'x');
  insert into users values (10, 'me', 1), (11, 'x', 2), (12, 'x', 3), (13, 'x', 4), (14, 'x', null);
  insert into tickets values (100, 'me', 10), (101, 'x', 11), (102, 'x', 13);
  insert into events values (1, 'me', 100), (2, 'me', 101), (3, 'you', 102);
  insert into logs values (1, 'me', 12), (2, 'you', 13), (3, 'me', null);`;
const table = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  where: mine,
  deletePredicate: 't.owner = g.owner',
  ...extra,
});
const manifest = (usersRowSql?: string) =>
  ownerManifest('prefix', {
    closure: 'parents',
    tableOrder: ['orgs', 'users', 'tickets', 'events', 'logs'],
    tables: [
      table('logs'),
      table('events'),
      table('tickets'),
      table('users', usersRowSql ? { rowSql: usersRowSql } : {}),
      table('orgs', { where: 'false' }),
    ],
  });

for (const [chunk, lanes] of [
  [1, 'one key per chunk'],
  [10_000, 'one chunk'],
] as const)
  dbTest(
    `a prefix completed while later tables are read (${lanes}): every parent, in load order`,
    async ({ db }) => {
      await db.query(`${ddl}${rows}`);
      const out = join(dir, `prefix-${chunk}.json`);
      const exported = await exportOwner(db, manifest(), out, {
        closureChunkSize: chunk,
        closureKeysInMemory: 1,
      });
      // users 11 through ticket 101 (added by closure: an event of mine references it), users 12 through a
      // log by one query; orgs 2 and 3 through those users' rows, org 1 through user 10's.
      expect(exported.closureRows).toEqual({ orgs: 3, users: 2, tickets: 1, events: 0, logs: 0 });
      const capsule = JSON.parse(await readFile(out, 'utf8')) as { tables: Record<string, unknown[]> };
      expect(Object.keys(capsule.tables)).toEqual(['orgs', 'users', 'tickets', 'events', 'logs']);
      const replay = await db.sibling();
      await replay.query(ddl);
      const result = await materialize({ manifest: manifest(), capsulePath: out, databaseUrl: replay.url });
      expect(result.directCopy).toEqual(['orgs', 'users', 'tickets', 'events', 'logs']);
      expect(result.verified).toBe(true);
      const wanted: Record<string, string> = {
        orgs: 'id in (1, 2, 3)',
        users: 'id in (10, 11, 12)',
        tickets: 'id in (100, 101)',
        events: "owner = 'me'",
        logs: "owner = 'me'",
      };
      for (const [name, where] of Object.entries(wanted))
        expect(await replay.query(`select * from ${name} order by id`)).toEqual(
          await db.query(`select * from ${name} where ${where} order by id`),
        );
    },
  );

dbTest('a query failing while the prefix is completed: its error, no capsule, no spool', async ({ db }) => {
  await db.query(`${ddl}${rows}`);
  const out = join(dir, 'failed', 'c.json');
  // Only user 11, which closure fetches by a key tickets passed, divides by zero.
  const broken = manifest("to_jsonb(t) || jsonb_build_object('q', 1 / (t.id - 11))");
  await expect(exportOwner(db, broken, out, { closureChunkSize: 1 })).rejects.toThrow(/division by zero/);
  expect(await filesBesidesAudit(join(dir, 'failed'))).toEqual([]);
});
