import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { expect } from 'vitest';

import { materialize } from '../../../src/services/materialize.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';
import { exportOwner, ownerManifest } from '../../setup/export-owner.js';
import { useTempDir } from '../../setup/temp-dir.js';

let dir: string;
useTempDir('closure-promoted-hostile-', (path) => (dir = path));

const mine = 't.owner = (select owner from params)';
// nodes: text keys (non-ASCII, prefixes of one another, long, NULL parents), a self-reference and the
// table closure adds to; a and b reference each other (a cycle); items is what the subject owns.
const ddl = `
  create table nodes (id text primary key, owner text not null, parent_id text references nodes);
  create table a (id int primary key, owner text not null, b_id int);
  create table b (id int primary key, owner text not null, a_id int references a);
  alter table a add foreign key (b_id) references b deferrable initially deferred;
  create table items (id int primary key, owner text not null, node_id text references nodes, a_id int references a);`;
const long = (c: string) => c.repeat(1500);
const seed = `
  insert into nodes values ('', 'x', null), ('a', 'x', ''), ('ab', 'x', 'a'), ('abc', 'x', 'ab'),
    ('é', 'x', 'abc'), ('ü\u{1F600}', 'x', 'é'), ('${long('k')}', 'x', 'ü\u{1F600}'), ('${long('k')}k', 'x', null),
    ('z', 'x', null), ('zz', 'x', 'z'), ('q''"\\\\', 'x', 'zz');
  begin;
  insert into a values (1, 'x', 1), (2, 'x', 3), (3, 'x', 3);
  insert into b values (1, 'x', 1), (3, 'x', 2), (4, 'x', 3);
  commit;
  insert into items values (1, 'me', '${long('k')}', 1), (2, 'me', 'q''"\\\\', null), (3, 'you', 'z', 2),
    (4, 'me', 'abc', 2), (5, 'me', '${long('k')}k', null);`;

async function roundTrip(db: TestDatabase, tableOrder: string[], name: string, extra: object) {
  const manifest = ownerManifest('promoted-hostile', {
    closure: 'parents',
    tableOrder,
    tables: [
      { name: 'items', where: mine, deletePredicate: 't.owner = g.owner' },
      { name: 'nodes', where: 'false', deletePredicate: 't.owner = g.owner' },
      { name: 'a', where: 'false', deletePredicate: 't.owner = g.owner' },
      { name: 'b', where: 'false', deletePredicate: 't.owner = g.owner' },
    ],
  });
  const out = join(dir, `${name}.json`);
  await exportOwner(db, manifest, out, extra);
  const capsule = JSON.parse(await readFile(out, 'utf8')) as { tables: Record<string, { id: unknown }[]> };
  expect(Object.keys(capsule.tables)).toEqual(tableOrder);
  for (const rows of Object.values(capsule.tables))
    expect(new Set(rows.map((row) => JSON.stringify(row.id))).size).toBe(rows.length);
  const replay = await db.sibling();
  await replay.query(ddl);
  const result = await materialize({ manifest, capsulePath: out, databaseUrl: replay.url });
  expect(result.directCopy).toEqual(tableOrder.filter((table) => capsule.tables[table]!.length > 0));
  expect(result.verified).toBe(true);
  const wanted: Record<string, string> = {
    items: "owner = 'me'",
    nodes: `id in (with recursive up(id) as (select node_id from items where owner = 'me'
      union select n.parent_id from nodes n join up on n.id = up.id) select id from up)`,
    a: `id in (with recursive r(t, id) as (select 'a', a_id from items where owner = 'me'
      union select case when r.t = 'a' then 'b' else 'a' end, case when r.t = 'a' then (select b_id from a where a.id = r.id) else (select a_id from b where b.id = r.id) end from r where r.id is not null)
      select id from r where t = 'a')`,
    b: `id in (with recursive r(t, id) as (select 'a', a_id from items where owner = 'me'
      union select case when r.t = 'a' then 'b' else 'a' end, case when r.t = 'a' then (select b_id from a where a.id = r.id) else (select a_id from b where b.id = r.id) end from r where r.id is not null)
      select id from r where t = 'b')`,
  };
  for (const [table, where] of Object.entries(wanted))
    expect(await replay.query(`select * from ${table} order by id::text collate "C"`)).toEqual(
      await db.query(`select * from ${table} where ${where} order by id::text collate "C"`),
    );
  return readFile(out);
}

const orders = [
  ['nodes', 'a', 'b', 'items'],
  ['a', 'b', 'nodes', 'items'],
];
for (const tableOrder of orders)
  dbTest(
    `self-reference, cycle, hostile text keys, order ${tableOrder.join(',')}: spilled and in memory give the same rows`,
    async ({ db }) => {
      await db.query(`${ddl}${seed}`);
      const base = await roundTrip(db, tableOrder, 'memory', {});
      const spilled = await roundTrip(db, tableOrder, 'spilled', {
        closureDirect: false,
        closureChunkSize: 1,
        closureKeysInMemory: 1,
      });
      const parse = (buf: Buffer) => {
        const tables = (JSON.parse(buf.toString()) as { tables: Record<string, { id: string }[]> }).tables;
        return Object.fromEntries(
          Object.entries(tables).map(([k, rows]) => [k, rows.map((r) => JSON.stringify(r)).sort()]),
        );
      };
      expect(parse(spilled)).toEqual(parse(base));
    },
  );

dbTest('the table closure adds to is first in load order and gets no row', async ({ db }) => {
  await db.query(`${ddl}
    insert into items values (1, 'me', null, null), (2, 'you', null, null);`);
  await roundTrip(db, ['nodes', 'a', 'b', 'items'], 'empty', {
    closureDirect: false,
    closureChunkSize: 1,
    closureKeysInMemory: 1,
  });
});
