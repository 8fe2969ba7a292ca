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
  // Declared immutable (falsely), so folded when each statement is planned, on its backend, and not
  // seen as reading the connection or the clock (table-pieces.ts): they tell the tests which piece, on
  // which backend, read a row.
  await db.query(`create function test_backend() returns int immutable language sql as 'select pg_backend_pid()';
                  create function test_statement() returns text immutable language sql
                    as 'select statement_timestamp()::text'`);
  await db.query(`alter database ${db.name} set enable_seqscan = off`);
  await db.query(`alter database ${db.name} set enable_bitmapscan = off`);
}

/** notes (or `first`), then items with these fields; a hash rule on items' email. */
function manifest(items: Record<string, unknown>, options: { first?: string; closure?: string } = {}) {
  const first = options.first ?? 'notes';
  const text = JSON.stringify({
    appId: 'pieces',
    adapter: 'postgres-subject-graph.v1',
    subjectKeys: ['owner'],
    postgres: {
      ...(options.closure ? { closure: options.closure } : {}),
      tableOrder: [first, 'items'],
      tables: [
        { name: first, where: 't.owner = (select owner from params)', orderBy: 't.id' },
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
    manifest({ orderBy: 'x.id', rowSql: `jsonb_build_object('id', x.id, 'pid', test_backend())` }),
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
    // (A where strict on x makes PostgreSQL plan the full join as a left one, keeping x: then pieces.)
    await whole(
      {
        orderBy: 'x.id',
        from: 'items x full join notes n on n.id = x.id',
        where: 'coalesce(x.owner, n.owner) = (select owner from params)',
      },
      forced,
    ),
  ).toBeUndefined();
  expect(await whole({ orderBy: 'x.id' }, { ...forced, minTableBytes: 1 << 30 })).toBeUndefined(); // small
  // Dearer in pieces (each piece's index scan costs most of the whole's, by the planner's count).
  expect(await whole({ orderBy: 'x.word, x.id' }, { minTableBytes: 0 })).toBeUndefined();
  expect(await whole({ orderBy: 'x.id' }, forced)).toEqual({ items: 4 });
});

dbTest(
  "another `<` on the order type, in the search path: ranges still use the btree class's",
  async ({ db }) => {
    await prepare(db);
    // A reversed `<` on bigint in public: a range that looked its operator up could resolve to it.
    await db.query(`create function public.reverse_lt(bigint, bigint) returns boolean language sql immutable
                    as 'select $1 > $2';
                  create operator public.< (leftarg = bigint, rightarg = bigint, function = public.reverse_lt);
                  alter database ${db.name} set search_path = public, pg_catalog`);
    const { whole, pieces, piecesResult } = await bothWays(db, { orderBy: 'x.id' });
    expect(piecesResult.pieces).toEqual({ items: 4 });
    expect(pieces).toBe(whole);
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
    const closureManifest = manifest({ orderBy: 'x.id' }, { first: 'parents', closure: 'parents' });
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
    const partitioned = manifest({ orderBy: 'x.id' });
    const whole = join(dir, 'part-whole.json');
    const pieces = join(dir, 'part-pieces.json');
    await exportOwner(db, partitioned, whole, { tablePieces: false });
    const result = await exportOwner(db, partitioned, pieces, { tablePieces: forced });
    expect(result.pieces).toEqual({ items: 4 });
    expect(result.rowCounts.items).toBe(30000);
    expect(await tablesOf(pieces)).toBe(await tablesOf(whole));
  },
);

dbTest(
  "split values come from a sample of the subject's rows: pieces of about equal size where they cluster",
  async ({ db }) => {
    await prepare(db);
    // clustered: 8,000 rows, ids 32,001–40,000, the top fifth of the table's histogram.
    await db.query(`update items set owner = 'clustered' where id > 32000; analyze items;`);
    // Each piece is one COPY statement: its rows share its statement_timestamp().
    const rowSql = `jsonb_build_object('id', x.id, 'piece', test_statement())`;
    const pieceSizes = async (out: string): Promise<number[]> => {
      const result = await exportOwner(db, manifest({ orderBy: 'x.id', rowSql }), out, {
        tablePieces: forced,
        subject: { owner: 'clustered' },
      });
      expect(result.pieces).toEqual({ items: 4 });
      const capsule = JSON.parse(await readFile(out, 'utf8')) as { tables: { items: { piece: string }[] } };
      const sizes = new Map<string, number>();
      for (const row of capsule.tables.items) sizes.set(row.piece, (sizes.get(row.piece) ?? 0) + 1);
      // In the order of the rows, which is the order of the pieces.
      return [...sizes.values()];
    };
    const sizes = await pieceSizes(join(dir, 'clustered.json'));
    expect(sizes.reduce((sum, n) => sum + n, 0)).toBe(8000);
    // By the whole table's histogram the first three pieces would be empty and the last would hold all
    // 8,000 rows; sampled, each holds about 2,000, but only about: tablesample system picks whole pages
    // (~25 rows each), ~50 of the cluster's ~320, so a piece's size depends on which pages (980 and 449
    // seen before the sample was `repeatable`). Asserted: every piece has rows, none has half of them,
    // which the histogram's split fails, and a second export samples the same pages: the same pieces.
    expect(sizes).toHaveLength(4);
    for (const size of sizes) expect(size).toBeLessThan(4000);
    expect(await pieceSizes(join(dir, 'clustered-again.json'))).toEqual(sizes);
  },
);

dbTest(
  'read whole when a piece would number, cut or NULL-extend its own rows, or read its own clock',
  async ({ db }) => {
    await prepare(db);
    const pieces = async (items: Record<string, unknown>) =>
      (await exportOwner(db, manifest(items), join(dir, 'w.json'), { tablePieces: forced })).pieces;
    // Red team (session 20): each of these gave other rows in pieces than read whole.
    expect(
      await pieces({
        orderBy: 'x.id',
        rowSql: `to_jsonb(x) || jsonb_build_object('rn', row_number() over (order by x.id))`,
      }),
    ).toBeUndefined();
    expect(await pieces({ orderBy: 'x.id limit 20000' })).toBeUndefined();
    expect(await pieces({ orderBy: 'x.id offset 10' })).toBeUndefined();
    expect(
      await pieces({
        orderBy: 'x.id',
        from: 'items x right/**/join notes n on n.id = x.id',
        where: 'n.owner = (select owner from params)',
        rowSql: `jsonb_build_object('n', n.id, 'x', to_jsonb(x))`,
      }),
    ).toBeUndefined();
    expect(
      await pieces({ orderBy: 'x.id', rowSql: `to_jsonb(x) || jsonb_build_object('at', now())` }),
    ).toBeUndefined();
    expect(
      await pieces({ orderBy: 'x.id', where: `x.owner = (select owner from params) and x.at < now()` }),
    ).toBeUndefined();
    // Second pass: the clock behind a function of the schema or a view, a sequence's last_value (read
    // outside the snapshot), in rowSql.
    await db.query(`create function stamp() returns timestamptz language sql stable as 'select now()';
                    create view v_now as select now() as ts;
                    create sequence s;`);
    for (const rowSql of [
      `to_jsonb(x) || jsonb_build_object('t', stamp())`,
      `to_jsonb(x) || jsonb_build_object('t', (select ts from v_now))`,
      `to_jsonb(x) || jsonb_build_object('lv', (select last_value from s))`,
    ])
      expect(await pieces({ orderBy: 'x.id', rowSql }), rowSql).toBeUndefined();
    // And with none of that: pieces (the checks above are what kept each whole).
    expect(
      await pieces({
        orderBy: 'x.id',
        rowSql: `to_jsonb(x) || jsonb_build_object('n', n.id)`,
        from: 'items x left join notes n on n.id = x.id',
      }),
    ).toEqual({ items: 4 });
  },
);

dbTest(
  'an order type whose operators are outside the search path: compared by its own btree operators',
  async ({ db }) => {
    await prepare(db);
    // citext in its own schema: `>=` looked up through the search path would be text's (case-sensitive),
    // while order by sorts by citext's btree class (red team, session 20).
    await db.query(`
    create schema ext;
    create extension citext schema ext;
    alter table items add column k ext.citext;
    update items set k = case when id % 2 = 0 then upper(md5(id::text)) else md5(id::text) end;
    alter table items alter column k set not null;
    create index on items (k);
    analyze items;`);
    const { whole, pieces, piecesResult } = await bothWays(db, { orderBy: 'x.k, x.id' });
    expect(piecesResult.pieces).toEqual({ items: 4 });
    expect(pieces).toBe(whole);
  },
);

dbTest(
  "the connection lost while pieces are planned: the export's database error, not an internal one",
  async ({ db }) => {
    await prepare(db);
    // Immutable, so the planner runs it while planning: each EXPLAIN takes 2 s.
    await db.query(`create function slow_zero() returns bigint immutable language plpgsql
                    as $$ begin perform pg_sleep(2); return 0; end $$`);
    const exported = exportOwner(
      db,
      manifest({ orderBy: 'x.id', where: 'x.owner = (select owner from params) and x.id > slow_zero()' }),
      join(dir, 'lost', 'c.json'),
      { tablePieces: forced },
    );
    const outcome = exported.then(
      () => undefined,
      (error: unknown) => error,
    );
    let terminated = false;
    for (let attempt = 0; attempt < 100 && !terminated; attempt++) {
      const [row] = await db.query<{ done: boolean }>(
        `select pg_terminate_backend(pid) as done from pg_stat_activity
        where datname = current_database() and query like 'explain (format json)%' and pid <> pg_backend_pid() limit 1`,
      );
      terminated = row?.done === true;
      if (!terminated) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(terminated).toBe(true);
    const error = (await outcome) as { code?: string; exitCode?: number } | undefined;
    // The server's own word (57P01, "terminating connection due to administrator command"), exit 3.
    expect(error?.code).toMatch(/^database_(error|connection_lost)$/);
    expect(error?.exitCode).toBe(3);
    expect(await filesBesidesAudit(join(dir, 'lost'))).toEqual([]);
  },
);
