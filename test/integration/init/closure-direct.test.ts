import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect } from 'vitest';

import { materialize } from '../../../src/services/materialize.js';
import { dbTest } from '../../setup/database.js';
import { exportOwner, ownerManifest } from '../../setup/export-owner.js';
import { useTempDir } from '../../setup/temp-dir.js';

let dir: string;
useTempDir('closure-direct-', (path) => (dir = path));

const mine = 't.owner = (select owner from params)';
/** A `closure: parents` manifest of owner-keyed tables. */
const closureManifest = (postgres: Record<string, unknown>) =>
  ownerManifest('direct', { closure: 'parents', ...postgres });
const manifest = closureManifest({
  tables: [
    { name: 'grand', where: 'false' },
    { name: 'parents', where: mine },
    { name: 'combo', where: 'false' },
    { name: 'kids', where: mine },
    { name: 'toys', where: mine },
  ],
});

// parents and combo are completed by one query joining kids' and toys' own queries (closure-direct.ts);
// grand wants the keys of parents' rows, own and added: by one query joining parents' own query and
// parents' one query (`through`), or, with REPLAY_ENV_CLOSURE_DIRECT=0, by passed keys.
const schema = `
  create table grand (id int primary key, note text);
  create table parents (id bigint primary key, owner text not null, grand_id int references grand);
  create table combo (a int, b text, primary key (a, b));
  create table kids (id int primary key, owner text not null, parent_id int references parents,
    ca int, cb text, foreign key (ca, cb) references combo);
  create table toys (id int primary key, owner text not null, parent_id bigint references parents);
  insert into grand values (1, 'g1'), (2, 'g2'), (3, 'g3'), (4, 'only another owner''s');
  insert into parents values (10, 'me', 1), (11, 'x', 2), (12, 'x', null), (13, 'x', 3), (14, 'x', 4), (15, 'x', 4);
  insert into combo values (1, 'a'), (1, 'b'), (2, 'a');
  insert into kids values (1, 'me', 10, 1, 'a'), (2, 'me', 11, 1, null), (3, 'me', 12, null, null),
    (4, 'you', 14, 2, 'a'), (5, 'me', 12, 1, 'a');
  insert into toys values (1, 'me', 12), (2, 'me', 13), (3, 'you', 14);
`;

describe('closure completing a parent with one query joining its children', () => {
  dbTest(
    'each wanted row once (own where, two children, overlapping keys, int → bigint, composite with NULLs), nothing of another owner, the same as passing keys',
    async ({ db }) => {
      await db.query(schema);
      const tablesOf = async (closureDirect: boolean) => {
        const out = join(dir, `c-${closureDirect}.json`);
        const result = await exportOwner(db, manifest, out, { closureDirect });
        const capsule = JSON.parse(await readFile(out, 'utf8')) as {
          tables: Record<string, { id?: number }[]>;
        };
        const rows = Object.fromEntries(
          Object.entries(capsule.tables).map(([name, list]) => [
            name,
            list.map((row) => JSON.stringify(row)).sort(),
          ]),
        );
        return { rows, counts: result.rowCounts, added: result.closureRows };
      };
      const direct = await tablesOf(true);
      expect(direct.counts).toEqual({ grand: 3, parents: 4, combo: 1, kids: 4, toys: 2 });
      expect(direct.added).toEqual({ grand: 3, parents: 3, combo: 1, kids: 0, toys: 0 });
      const expected = async (sql: string) =>
        (await db.query<{ r: unknown }>(sql)).map((row) => JSON.stringify(row.r)).sort();
      expect(direct.rows.parents).toEqual(
        await expected('select to_jsonb(t) as r from parents t where id in (10, 11, 12, 13)'),
      );
      expect(direct.rows.grand).toEqual(
        await expected('select to_jsonb(t) as r from grand t where id in (1, 2, 3)'),
      );
      // (1, NULL) and (NULL, NULL) need no parent (MATCH SIMPLE); (2, 'a') is another owner's only
      expect(direct.rows.combo).toEqual(
        await expected(`select to_jsonb(t) as r from combo t where (a, b) = (1, 'a')`),
      );
      expect(await tablesOf(false)).toEqual(direct);
    },
  );
});

// With every parent completed by one query, no table waits for keys: the capsule lists the tables in
// load order, so materialize copies each straight into its table instead of falling back to staging.
dbTest(
  'a capsule whose parents one query completes is in load order and loads by direct COPY',
  async ({ db }) => {
    const ddl = `
    create table parents (id bigint primary key, owner text not null);
    create table kids (id int primary key, owner text not null, parent_id int references parents);
    create table toys (id int primary key, owner text not null, parent_id bigint references parents);`;
    await db.query(`${ddl}
    insert into parents values (10, 'me'), (11, 'x'), (12, 'x'), (13, 'x');
    insert into kids values (1, 'me', 10), (2, 'me', 11), (3, 'you', 13);
    insert into toys values (1, 'me', 12), (2, 'you', 13);`);
    const parsed = closureManifest({
      tableOrder: ['parents', 'kids', 'toys'],
      tables: ['parents', 'kids', 'toys'].map((name) => ({
        name,
        where: mine,
        deletePredicate: 't.owner = g.owner',
      })),
    });
    const out = join(dir, 'ordered.json');
    const exported = await exportOwner(db, parsed, out);
    expect(exported.closureRows).toEqual({ parents: 2, kids: 0, toys: 0 });
    const capsule = JSON.parse(await readFile(out, 'utf8')) as { tables: Record<string, unknown[]> };
    expect(Object.keys(capsule.tables)).toEqual(['parents', 'kids', 'toys']);
    const replay = await db.sibling();
    await replay.query(ddl);
    const result = await materialize({ manifest: parsed, capsulePath: out, databaseUrl: replay.url });
    expect(result.directCopy).toEqual(['parents', 'kids', 'toys']);
    expect(result.verified).toBe(true);
    expect(await replay.query('select id from parents order by id')).toEqual([
      { id: '10' },
      { id: '11' },
      { id: '12' },
    ]);
  },
);

// The direct query's `except` must sort, not hash: a hashed set operation never spills to disk, so a
// misestimated key count would take the source server's memory (buildHashAggregateSetting). The
// setting is the direct query's alone: what runs after it on the connection has the session's again.
dbTest(
  'the one query runs with enable_hashagg off; the queries after it have the setting back',
  async ({ db }) => {
    await db.query(schema);
    const seen = `jsonb_build_object('id', t.id, 'hashagg', current_setting('enable_hashagg'))`;
    const parsed = closureManifest({
      tables: [
        { name: 'grand', where: 'false', rowSql: seen },
        { name: 'parents', where: mine, rowSql: seen },
        { name: 'combo', where: 'false' },
        { name: 'kids', where: mine, rowSql: seen },
        { name: 'toys', where: mine },
      ],
    });
    const before = process.env.REPLAY_ENV_EXPORT_CONNECTIONS;
    process.env.REPLAY_ENV_EXPORT_CONNECTIONS = '1'; // one connection: every query after the direct one sees it
    try {
      const out = join(dir, 'hashagg.json');
      await exportOwner(db, parsed, out);
      const capsule = JSON.parse(await readFile(out, 'utf8')) as {
        tables: Record<string, { id: number; hashagg: string }[]>;
      };
      const setting = (table: string) =>
        Object.fromEntries(capsule.tables[table]!.map((row) => [row.id, row.hashagg]));
      // parents 10 is its own query's row; 11, 12, 13 the one query's; grand's all the one query's
      // (joining parents' own and one queries); kids' own query runs after both
      expect(setting('parents')).toEqual({ 10: 'on', 11: 'off', 12: 'off', 13: 'off' });
      expect(setting('grand')).toEqual({ 1: 'off', 2: 'off', 3: 'off' });
      expect(setting('kids')).toEqual({ 1: 'on', 2: 'on', 3: 'on', 5: 'on' });
    } finally {
      if (before === undefined) delete process.env.REPLAY_ENV_EXPORT_CONNECTIONS;
      else process.env.REPLAY_ENV_EXPORT_CONNECTIONS = before;
    }
  },
);

// A foreign key may join columns of different collations; compared without saying which, the one query
// failed ("collation mismatch between implicit collations"). It compares in the parent's.
dbTest(
  'a child column in another collation than its parent’s: the same rows by one query as by passed keys',
  async ({ db }) => {
    await db.query(`
      create table parents (code text collate "C" primary key, owner text not null);
      create table kids (id int primary key, owner text not null, code text collate "POSIX" references parents);
      create table toys (id int primary key, owner text not null, code text references parents);
      insert into parents values ('a', 'me'), ('B', 'x'), ('c', 'x'), ('d', 'x');
      insert into kids values (1, 'me', 'a'), (2, 'me', 'B'), (3, 'you', 'd');
      insert into toys values (1, 'me', 'c'), (2, 'me', null);`);
    const parsed = closureManifest({
      tables: ['parents', 'kids', 'toys'].map((name) => ({ name, where: mine })),
    });
    const codes = async (closureDirect: boolean) => {
      const out = join(dir, `collation-${closureDirect}.json`);
      const result = await exportOwner(db, parsed, out, { closureDirect });
      const capsule = JSON.parse(await readFile(out, 'utf8')) as {
        tables: Record<string, { code: string }[]>;
      };
      return { added: result.closureRows, codes: capsule.tables.parents!.map((row) => row.code).sort() };
    };
    const direct = await codes(true);
    expect(direct).toEqual({ added: { parents: 2, kids: 0, toys: 0 }, codes: ['B', 'a', 'c'] });
    expect(await codes(false)).toEqual(direct);
  },
);
