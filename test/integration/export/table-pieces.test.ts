import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { expect } from 'vitest';

import { parseManifest } from '../../../src/manifest/index.js';
import type { ExportOptions } from '../../../src/services/export.js';
import { filesBesidesAudit } from '../../setup/capsule-folder.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';
import { exportOwner } from '../../setup/export-owner.js';
import { useTempDir } from '../../setup/temp-dir.js';

let dir: string;
useTempDir('table-pieces-', (path) => (dir = path));

// items: 40,000 rows, owner me for four in five (ids spread over the whole table, so the histogram's
// quantiles fall among me's rows), late only above id 36,000. Order columns with ties (word: ten rows
// each, 'a' and 'B' ordered by the C collation; at: eight rows a minute; amount: 1 and 1.00 are equal;
// f: -0 and 0 are equal), NaN and ±Infinity, JSON nulls (lossy marks) and a hashed field. The order
// columns follow id, with an index each, and no seq scans; the cost check is off (forced below): every
// order variant is read in pieces.
const ddl = `
  create table items (
    id bigint primary key, owner text not null, word text collate "C" not null, f double precision not null,
    at timestamptz not null, amount numeric not null, meta jsonb, email text not null, pad text not null,
    maybe int);
  insert into items
  select i, case when i > 36000 and i % 7 = 0 then 'late' when i % 5 = 0 then 'you' else 'me' end,
         lpad(to_hex(i / 10), 4, '0') || case when i % 3 = 0 then 'a' else 'B' end,
         case i % 1000 when 0 then 'NaN' when 1 then 'Infinity' when 2 then '-Infinity' when 3 then '-0'
                       when 4 then '0' else (i / 3) / 7.0 end,
         '2020-01-01 00:00:00+00'::timestamptz + (i / 8) * interval '1 minute',
         case when i % 2 = 0 then (i / 4)::numeric else ((i / 4)::numeric(10, 2)) end,
         case when i % 50 = 1 then 'null'::jsonb else jsonb_build_object('n', i) end,
         'user' || i || '@example.com', repeat(md5(i::text), 6),
         case when i % 3 = 0 then null else i end
    from generate_series(1, 40000) i;
  create index on items (word, id);
  create index on items (f, id);
  create index on items (at, id);
  create index on items (amount, id);
  create table notes (id int primary key, owner text not null, body text not null);
  insert into notes select i, 'me', 'note ' || i from generate_series(1, 300) i;
  analyze items;
  analyze notes;`;

/** Pieces whatever the table's size and the plans' cost. */
const forced = { minTableBytes: 0, maxCostRatio: Infinity };

async function prepare(db: TestDatabase): Promise<void> {
  await db.query(ddl);
  await db.query(`alter database ${db.name} set enable_seqscan = off`);
  await db.query(`alter database ${db.name} set enable_bitmapscan = off`);
}

function manifest(items: Record<string, unknown>) {
  const text = JSON.stringify({
    appId: 'pieces',
    adapter: 'postgres-subject-graph.v1',
    subjectKeys: ['owner'],
    postgres: {
      tableOrder: ['notes', 'items'],
      tables: [
        { name: 'notes', where: 't.owner = (select owner from params)', orderBy: 't.id' },
        {
          name: 'items',
          alias: 'x',
          from: 'items x',
          where: 'x.owner = (select owner from params)',
          ...items,
        },
      ],
    },
    redactionRules: [{ table: 'items', fields: ['email'], action: 'hash', prefix: 'user-' }],
  });
  return parseManifest(text, { file: 'm.json', path: '/tmp/m.json', cwd: '/tmp' });
}

/** The capsule from `"tables"` on (rows and integrity trailer; the header holds the export time). */
async function tablesOf(path: string): Promise<string> {
  const text = await readFile(path, 'utf8');
  return text.slice(text.indexOf('  "tables": {'));
}

async function bothWays(
  db: TestDatabase,
  items: Record<string, unknown>,
  extra: Partial<ExportOptions> = {},
) {
  const name = Object.values(items).join('-').replace(/\W+/g, '_');
  const whole = join(dir, `${name}-whole.json`);
  const pieces = join(dir, `${name}-pieces.json`);
  const options = { redaction: 'safe' as const, ...extra };
  const wholeResult = await exportOwner(db, manifest(items), whole, { ...options, tablePieces: false });
  const piecesResult = await exportOwner(db, manifest(items), pieces, {
    ...options,
    tablePieces: forced,
  });
  return { whole: await tablesOf(whole), pieces: await tablesOf(pieces), wholeResult, piecesResult };
}

dbTest(
  'a table read in pieces on both connections: the same rows, order, redaction, lossy counts and sha256-rows-v1 as read whole',
  async ({ db }) => {
    await prepare(db);
    const [counts] = await db.query<{ rows: string; nulls: string }>(
      `select count(*) as rows, count(*) filter (where meta = 'null'::jsonb) as nulls from items where owner = 'me'`,
    );
    for (const orderBy of ['x.id', 'x.word, x.id', 'x.f asc, x.id', 'x.at, x.id', 'x.amount, x.id']) {
      const { whole, pieces, wholeResult, piecesResult } = await bothWays(db, { orderBy });
      expect(piecesResult.pieces, orderBy).toEqual({ items: 4 });
      expect(wholeResult.pieces).toBeUndefined();
      expect(piecesResult.rowCounts).toEqual({ notes: 300, items: Number(counts!.rows) });
      expect(piecesResult.lossy).toEqual({ items: { meta: Number(counts!.nulls) } });
      expect(pieces, orderBy).toBe(whole);
    }
  },
);

dbTest('pieces are read by both backends', async ({ db }) => {
  await prepare(db);
  const out = join(dir, 'pids.json');
  const result = await exportOwner(
    db,
    manifest({ orderBy: 'x.id', rowSql: `jsonb_build_object('id', x.id, 'pid', pg_backend_pid())` }),
    out,
    { tablePieces: forced },
  );
  expect(result.pieces).toEqual({ items: 4 });
  const capsule = JSON.parse(await readFile(out, 'utf8')) as {
    tables: { items: { id: number; pid: number }[] };
  };
  const ids = capsule.tables.items.map((row) => row.id);
  expect(ids).toEqual([...ids].sort((a, b) => a - b));
  expect(new Set(capsule.tables.items.map((row) => row.pid)).size).toBe(2);
});

dbTest(
  'a subject whose rows are all in the last pieces: the empty first pieces leave the capsule as read whole',
  async ({ db }) => {
    await prepare(db);
    const { whole, pieces, piecesResult } = await bothWays(
      db,
      { orderBy: 'x.id' },
      { subject: { owner: 'late' } },
    );
    expect(piecesResult.pieces).toEqual({ items: 4 });
    const [late] = await db.query<{ rows: string }>(
      `select count(*) as rows from items where owner = 'late'`,
    );
    expect(piecesResult.rowCounts.items).toBe(Number(late!.rows));
    expect(Number(late!.rows)).toBeGreaterThan(0);
    expect(pieces).toBe(whole);
  },
);

dbTest('a later piece failing: its error, no capsule, no spool', async ({ db }) => {
  await prepare(db);
  const out = join(dir, 'failed', 'c.json');
  const broken = manifest({
    orderBy: 'x.id',
    rowSql: `to_jsonb(x) || jsonb_build_object('q', 1 / (x.id - 39001))`,
  });
  await expect(exportOwner(db, broken, out, { tablePieces: forced })).rejects.toThrow(/division by zero/);
  expect(await filesBesidesAudit(join(dir, 'failed'))).toEqual([]);
});

dbTest('read whole when ranges could miss or repeat rows, or the table is small', async ({ db }) => {
  await prepare(db);
  const whole = async (items: Record<string, unknown>, pieces: ExportOptions['tablePieces']) =>
    (await exportOwner(db, manifest(items), join(dir, 'w.json'), { tablePieces: pieces })).pieces;
  expect(await whole({ orderBy: 'x.maybe, x.id' }, forced)).toBeUndefined(); // a nullable column
  expect(await whole({ orderBy: 'x.id desc' }, forced)).toBeUndefined();
  expect(
    await whole({ orderBy: 'x.id', from: 'items x left join notes n on n.id = x.id' }, forced),
  ).toBeUndefined();
  expect(await whole({ orderBy: 'x.id' }, { ...forced, minTableBytes: 1 << 30 })).toBeUndefined(); // small
  // Dearer in pieces (each piece's index scan costs most of the whole's, by the planner's count).
  expect(await whole({ orderBy: 'x.word, x.id' }, { minTableBytes: 0 })).toBeUndefined();
  expect(await whole({ orderBy: 'x.id' }, forced)).toEqual({ items: 4 });
});

dbTest(
  'read whole when another `<` on the order type could be the one a range resolves to',
  async ({ db }) => {
    await prepare(db);
    const out = join(dir, 'op.json');
    const pieces = async () =>
      (await exportOwner(db, manifest({ orderBy: 'x.id' }), out, { tablePieces: forced })).pieces;
    expect(await pieces()).toEqual({ items: 4 });
    await db.query(`create function public.reverse_lt(bigint, bigint) returns boolean language sql immutable
                    as 'select $1 > $2';
                  create operator public.< (leftarg = bigint, rightarg = bigint, function = public.reverse_lt)`);
    expect(await pieces()).toBeUndefined();
  },
);

dbTest(
  "closure: tables streamed in are read in pieces, a parent's closure rows after its last piece; held ones are read whole",
  async ({ db }) => {
    await prepare(db);
    // parents: half owned by me; me's items reference parents of both owners, so closure adds those of
    // other, by one query (closureDirect) after parents' last piece, or by passed keys. parents is about
    // as costly as items, so that each is a large share of the export (table-pieces.ts pieceCount).
    await db.query(`
      create table parents (id bigint primary key, owner text not null, pad text not null);
      insert into parents select i, case when i % 2 = 0 then 'me' else 'other' end, repeat(md5(i::text), 12)
        from generate_series(1, 40000) i;
      alter table items add column parent_id bigint references parents;
      update items set parent_id = 40001 - id where id % 3 = 0;
      analyze items;
      analyze parents;`);
    const closureManifest = parseManifest(
      JSON.stringify({
        appId: 'pieces',
        adapter: 'postgres-subject-graph.v1',
        subjectKeys: ['owner'],
        postgres: {
          closure: 'parents',
          tableOrder: ['parents', 'items'],
          tables: [
            { name: 'parents', where: 't.owner = (select owner from params)', orderBy: 't.id' },
            {
              name: 'items',
              alias: 'x',
              from: 'items x',
              where: 'x.owner = (select owner from params)',
              orderBy: 'x.id',
            },
          ],
        },
      }),
      { file: 'm.json', path: '/tmp/m.json', cwd: '/tmp' },
    );
    const [added] = await db.query<{ n: string }>(
      `select count(distinct i.parent_id) as n from items i join parents p on p.id = i.parent_id
        where i.owner = 'me' and p.owner = 'other'`,
    );
    expect(Number(added!.n)).toBeGreaterThan(0);
    for (const closureDirect of [true, false]) {
      const whole = join(dir, `closure-${closureDirect}-whole.json`);
      const pieces = join(dir, `closure-${closureDirect}-pieces.json`);
      const wholeResult = await exportOwner(db, closureManifest, whole, {
        closureDirect,
        tablePieces: false,
      });
      const result = await exportOwner(db, closureManifest, pieces, { closureDirect, tablePieces: forced });
      const what = `closureDirect ${closureDirect}: ${JSON.stringify(result.pieces)}`;
      expect(wholeResult.pieces).toBeUndefined();
      // Passing keys, parents takes them and items waits in a spool until parents is complete
      // (closure.ts \`held\`): both are read whole.
      if (closureDirect) {
        expect(result.pieces?.parents, what).toBeGreaterThanOrEqual(2);
        expect(result.pieces?.items, what).toBeGreaterThanOrEqual(2);
      } else expect(result.pieces, what).toBeUndefined();
      expect(result.closureRows).toEqual({ parents: Number(added!.n), items: 0 });
      expect(await tablesOf(pieces)).toBe(await tablesOf(whole));
    }
  },
);

dbTest(
  'a partitioned table, once its parent is analyzed, is read in pieces across its partitions',
  async ({ db }) => {
    await db.query(`
    create table notes (id int primary key, owner text not null, body text not null);
    create table items (id bigint not null, owner text not null, pad text not null) partition by range (id);
    create table items_low partition of items for values from (0) to (20000);
    create table items_high partition of items for values from (20000) to (50000);
    insert into items select i, case when i % 4 = 0 then 'you' else 'me' end, md5(i::text) from generate_series(1, 40000) i;
    alter table items add primary key (id);
    analyze items;`);
    const partitioned = parseManifest(
      JSON.stringify({
        appId: 'pieces',
        adapter: 'postgres-subject-graph.v1',
        subjectKeys: ['owner'],
        postgres: {
          tableOrder: ['notes', 'items'],
          tables: [
            { name: 'notes', where: 't.owner = (select owner from params)', orderBy: 't.id' },
            {
              name: 'items',
              alias: 'x',
              from: 'items x',
              where: 'x.owner = (select owner from params)',
              orderBy: 'x.id',
            },
          ],
        },
      }),
      { file: 'm.json', path: '/tmp/m.json', cwd: '/tmp' },
    );
    const whole = join(dir, 'part-whole.json');
    const pieces = join(dir, 'part-pieces.json');
    await exportOwner(db, partitioned, whole, { tablePieces: false });
    const result = await exportOwner(db, partitioned, pieces, { tablePieces: forced });
    expect(result.pieces).toEqual({ items: 4 });
    expect(result.rowCounts.items).toBe(30000);
    expect(await tablesOf(pieces)).toBe(await tablesOf(whole));
  },
);
