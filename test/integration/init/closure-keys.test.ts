import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect } from 'vitest';

import { parseManifest } from '../../../src/manifest/index.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';
import { exportOwner, kidsAndParentsManifest, ownerManifest } from '../../setup/export-owner.js';
import { useTempDir } from '../../setup/temp-dir.js';

let dir: string;
useTempDir('closure-keys-', (path) => (dir = path));

const manifest = (closure: 'none' | 'parents') =>
  parseManifest(
    JSON.stringify({
      appId: 'keys',
      adapter: 'postgres-subject-graph.v1',
      subjectKeys: ['owner'],
      postgres: {
        closure,
        tables: [
          { name: 'labels', where: 'false' },
          { name: 'slots', where: 'false' },
          { name: 'things', where: 't.owner = (select owner from params)' },
        ],
      },
    }),
    { file: 'm.json', path: '/tmp/m.json', cwd: '/tmp' },
  );

/** The export of `owner=me` with `manifest` fails with `message` and leaves no capsule. */
async function expectRefused(
  db: TestDatabase,
  manifest: ReturnType<typeof parseManifest>,
  message: string | RegExp,
): Promise<void> {
  const out = join(dir, 'refused.json');
  await expect(exportOwner(db, manifest, out)).rejects.toThrow(message);
  await expect(readFile(out)).rejects.toThrow(/ENOENT/);
}

describe('closure keys of every awkward type travel and come back exactly', () => {
  dbTest(
    'text with quotes, backslashes, tabs, emoji; timestamptz + numeric composite; NULL references',
    async ({ db }) => {
      await db.query(`
      create table labels (code text primary key, note text);
      create table slots (at timestamptz, price numeric(14, 4), id bytea, primary key (at, price, id));
      create table things (id int primary key, owner text not null,
        label text references labels, at timestamptz, price numeric(14, 4), slot_id bytea,
        foreign key (at, price, slot_id) references slots);
      insert into labels values (E'o''brien "x" \\\\ \\t ✓ 🎉', 'awkward'), ('plain', 'p'), ('unused', 'u');
      insert into slots values ('2026-01-02 03:04:05.123456+00', 1.5, '\\x00ff'), ('2026-01-02 03:04:05.123457+00', 1.5, '\\x00ff'),
        ('1999-12-31 23:59:59+00', 100000000.0001, '\\x');
      insert into things values
        (1, 'me', E'o''brien "x" \\\\ \\t ✓ 🎉', '2026-01-02 03:04:05.123456+00', 1.5, '\\x00ff'),
        (2, 'me', 'plain', '1999-12-31 23:59:59+00', 100000000.0001, '\\x'),
        (3, 'me', null, '2026-01-02 03:04:05.123457+00', null, '\\x00ff'),
        (4, 'you', 'unused', '2026-01-02 03:04:05.123457+00', 1.5, '\\x00ff');
    `);
      // Both ways: keys passed as JSON and cast back, and one query joining the child's own query.
      for (const closureDirect of [false, true]) {
        const out = join(dir, `c-${closureDirect}.json`);
        const result = await exportOwner(db, manifest('parents'), out, {
          closureChunkSize: 1,
          closureDirect,
        });
        expect(result.rowCounts).toEqual({ things: 3, labels: 2, slots: 2 });
        expect(result.closureRows).toEqual({ things: 0, labels: 2, slots: 2 });
        const capsule = JSON.parse(await readFile(out, 'utf8')) as { tables: Record<string, unknown[]> };
        const expected = async (sql: string) => (await db.query<{ r: unknown }>(sql)).map((row) => row.r);
        // closure rows come chunk by chunk (here one key per chunk, on two connections): compare as sets
        const sorted = (rows: unknown[]) => rows.map((row) => JSON.stringify(row)).sort();
        expect(sorted(capsule.tables.labels!)).toEqual(
          sorted(
            await expected(`select to_jsonb(l) as r from labels l where code <> 'unused' order by code`),
          ),
        );
        // thing 3 has a NULL price: MATCH SIMPLE needs no parent, so slot …457 is not added for it
        expect(sorted(capsule.tables.slots!)).toEqual(
          sorted(
            await expected(
              `select to_jsonb(s) as r from slots s where at <> '2026-01-02 03:04:05.123457+00' order by at, price, id`,
            ),
          ),
        );
      }
    },
  );

  dbTest('closure none: the same manifest exports exactly its own where (old behaviour)', async ({ db }) => {
    await db.query(`create table labels (code text primary key); create table slots (id int primary key);
      create table things (id int primary key, owner text, label text references labels);
      insert into labels values ('a'); insert into things values (1, 'me', 'a');`);
    const result = await exportOwner(db, manifest('none'), join(dir, 'n.json'));
    expect(result.rowCounts).toEqual({ labels: 0, slots: 0, things: 1 });
    expect(result.closureRows).toBeUndefined();
  });

  dbTest('a closure query that fails leaves no capsule and names the table', async ({ db }) => {
    await db.query(`create table labels (code text primary key); create table slots (id int primary key);
      create table things (id int primary key, owner text, label text references labels);
      insert into labels values ('a'); insert into things values (1, 'me', 'a');`);
    const broken = manifest('parents');
    // a where that only fails when a row is evaluated: the closure query of labels is the first to do so
    broken.postgres.tables[0]!.where = `t.code::int > 0`;
    await expectRefused(db, broken, /labels/);
  });

  dbTest('a closure row that is not a JSON object: one manifest error, no capsule', async ({ db }) => {
    await db.query(`create table labels (code text primary key); create table slots (id int primary key);
      create table things (id int primary key, owner text, label text references labels);
      insert into labels values ('a'); insert into things values (1, 'me', 'a');`);
    const broken = manifest('parents');
    // labels' own where is false: its only row comes from closure, framed into the table stream later
    broken.postgres.tables[0]!.rowSql = 'to_jsonb(t.code)';
    await expectRefused(db, broken, /labels.*not a JSON object/);
  });

  dbTest(
    'parents-and-reference with a subjectTable the source lacks: refused, no capsule',
    async ({ db }) => {
      await db.query(`create table labels (code text primary key); create table slots (id int primary key);
      create table things (id int primary key, owner text, label text references labels);`);
      const reference = manifest('parents');
      reference.postgres.closure = 'parents-and-reference';
      reference.postgres.subjectTable = 'owners';
      await expectRefused(db, reference, 'postgres.subjectTable: no table "owners" in the source database');
    },
  );

  // Own rows left out by running the parent's query again, or (a query that reads the clock) by the
  // keys they reported: those keys are spelt one way (closure-sql.ts canonicalKey).
  const parentWheres = { '': '', ', parent reading the clock': " and now() > '2000-01-01'" };
  for (const [clockName, clock] of Object.entries(parentWheres))
    for (const closureDirect of [false, true]) {
      dbTest(
        `keys equal as their type compares, spelt otherwise by the child (${closureDirect ? 'one query' : 'passed keys'}${clockName}): each parent row once`,
        async ({ db }) => {
          // The child spells the parent's own row's key otherwise (numeric scale, -0, an interval's units,
          // citext's case): the own row is recognised by the type's equality, not by the key's text.
          await db.query(`create extension if not exists citext;
        create table pn (id numeric primary key, owner text);
        create table pf (id float8 primary key, owner text);
        create table pi (id interval primary key, owner text);
        create table pc (id citext primary key, owner text);
        create table kids (id int primary key, owner text, n numeric references pn, f float8 references pf,
                           i interval references pi, c citext references pc);
        insert into pn values (1.5, 'me'), (2, 'x');
        insert into pf values (0, 'me'), (1, 'x');
        insert into pi values ('1 day', 'me'), ('2 days', 'x');
        insert into pc values ('Alice@Example.com', 'me'), ('bob@example.com', 'x');
        insert into kids values (1, 'me', 1.50, '-0', '24 hours', 'alice@example.com'),
                                (2, 'me', 2, 1, '2 days', 'BOB@example.com');`);
          const mine = 't.owner = (select owner from params)';
          const parents = ['pn', 'pf', 'pi', 'pc'];
          const equalKeys = ownerManifest('keys', {
            closure: 'parents',
            tableOrder: [...parents, 'kids'],
            tables: [
              ...parents.map((name) => ({ name, where: mine + clock })),
              { name: 'kids', where: mine },
            ],
          });
          const out = join(dir, 'equal.json');
          await exportOwner(db, equalKeys, out, { closureDirect });
          const tables = (JSON.parse(await readFile(out, 'utf8')) as { tables: Record<string, unknown[]> })
            .tables;
          for (const name of parents) expect([name, tables[name]!.length]).toEqual([name, 2]);
        },
      );
    }

  dbTest('an interval key too far for justify_interval: exported as it is spelt', async ({ db }) => {
    await db.query(`create table p (id interval primary key, owner text);
    create table kids (id int primary key, owner text, pid interval references p);
    insert into p values ('2147483647 mons 30 days', 'x'), ('1 day', 'x');
    insert into kids values (1, 'me', '2147483647 mons 30 days'), (2, 'me', '24 hours');`);
    const far = kidsAndParentsManifest('keys', ['p']);
    const out = join(dir, 'far.json');
    await exportOwner(db, far, out, { closureDirect: false });
    const tables = (JSON.parse(await readFile(out, 'utf8')) as { tables: Record<string, unknown[]> }).tables;
    expect(tables.p!.length).toBe(2);
  });

  for (const closureDirect of [false, true]) {
    dbTest(
      `float parents as the foreign key compares (${closureDirect ? 'one query' : 'passed keys'}): each referenced row, no failure`,
      async ({ db }) => {
        // A numeric, integer or bigint child is cast to real first (0.1 is real 0.1; 16777217 is real
        // 16777216); a float8 child compares in double precision; a NOT VALID numeric beyond double's range
        // references nothing.
        await db.query(`create table pr (id real primary key);
        create table pd (id double precision primary key);
        create table kids (id int primary key, owner text, n numeric references pr, i int references pr,
                           b bigint references pr, f float8 references pr, d numeric);
        insert into pr values (0.1), (16777216), (1e10), (0.5), (7);
        insert into pd values (1);
        insert into kids values (1, 'me', 0.1, 16777217, 10000000001, 0.5, 1e400), (2, 'me', null, null, null, null, 1);
        alter table kids add foreign key (d) references pd not valid;`);
        const floats = kidsAndParentsManifest('keys', ['pr', 'pd']);
        const out = join(dir, 'floats.json');
        await exportOwner(db, floats, out, { closureDirect });
        const tables = (
          JSON.parse(await readFile(out, 'utf8')) as { tables: Record<string, { id: number }[]> }
        ).tables;
        expect(tables.pr!.map((row) => row.id).sort((a, b) => a - b)).toEqual([0.1, 0.5, 16777216, 1e10]);
        expect(tables.pd!.map((row) => row.id)).toEqual([1]);
      },
    );
  }

  dbTest('a row closure adds, reached through two spellings of its key: fetched once', async ({ db }) => {
    // kids want p 1.50; p 1.5's boss is 2.0, whose boss is 1.500: the same row three ways.
    await db.query(`create extension if not exists citext;
    create table p (id numeric primary key, owner text, boss numeric references p);
    create table q (id citext primary key, owner text, boss citext references q);
    create table kids (id int primary key, owner text, pid numeric references p, qid citext references q);
    insert into p values (2, 'x', null), (1.5, 'x', 2.0);
    update p set boss = 1.500 where id = 2;
    insert into q values ('B', 'x', null), ('a', 'x', 'b');
    update q set boss = 'A' where id = 'B';
    insert into kids values (1, 'me', 1.50, 'A');`);
    const selfRefs = kidsAndParentsManifest('keys', ['p', 'q']);
    const out = join(dir, 'self.json');
    await exportOwner(db, selfRefs, out);
    const tables = (JSON.parse(await readFile(out, 'utf8')) as { tables: Record<string, unknown[]> }).tables;
    expect([tables.p!.length, tables.q!.length]).toEqual([2, 2]);
  });

  dbTest(
    'parents-and-reference with a reference table whose where reads the clock: refused, no capsule',
    async ({ db }) => {
      // Its rows are compared with its own query run again (another statement, maybe the other
      // connection): rows would come twice or go missing.
      await db.query(`create table owners (owner text primary key);
      create table labels (code text primary key);
      create table things (id int primary key, owner text references owners, label text references labels);
      create table label_notes (id int primary key, label text references labels, at timestamptz);`);
      const reference = ownerManifest('keys', {
        closure: 'parents-and-reference',
        subjectTable: 'owners',
        tables: [
          { name: 'owners', where: 't.owner = (select owner from params)' },
          { name: 'labels', where: 'false' },
          { name: 'things', where: 't.owner = (select owner from params)' },
          { name: 'label_notes', where: 't.at > now()' },
        ],
      });
      await expectRefused(
        db,
        reference,
        /^tables\[label_notes\]: a reference table under closure: parents-and-reference, but its from\/where\/orderBy may select other rows when closure runs it again/,
      );
      reference.postgres.tables[3]!.where = 'false';
      await exportOwner(db, reference, join(dir, 'ok.json'));
    },
  );
});
