import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { expect } from 'vitest';

import { openCapsule } from '../../../src/capsule/index.js';
import { renderExport } from '../../../src/cli/render/export-postgres.js';
import { renderInspect } from '../../../src/cli/render/inspect.js';
import { lossyPrefix } from '../../../src/graph/lossy-values-sql.js';
import { inspectCapsule } from '../../../src/services/inspect.js';
import { materialize } from '../../../src/services/materialize.js';
import { dbTest } from '../../setup/database.js';
import { exportOwner, ownerManifest } from '../../setup/export-owner.js';
import { useTempDir } from '../../setup/temp-dir.js';

let dir: string;
useTempDir('lossy-values-', (path) => (dir = path));

// A json/jsonb column holding the JSON value null is written in the row's JSON as `null`, like SQL NULL,
// and loads as SQL NULL; an array indexed from 0 (or any index but 1, in any dimension) is written and
// loaded from 1. The load said `verified: yes` on both (found in session 14). Now the export counts such
// rows per column (the capsule's integrity trailer) and materialize does not claim them verified.
const ddl = `
  create domain doc as jsonb;
  create domain posint as int check (value > 0);
  create table docs (id int primary key, owner text not null, d jsonb, j json, arr jsonb[], jarr json[],
    dom doc, big jsonb, tags text[], grid int[][], ints posint[]);
  create table kids (id int primary key, owner text not null, doc int references docs);`;
const rows = `
  insert into docs values
    (1, 'me', 'null', '  null ', null, null, null, null, '[0:1]={a,b}', '{{1,2},{3,4}}', null),
    (2, 'me', null, null, array['1'::jsonb, 'null'], array['null'::json], 'null', null, '{a}',
      '[1:1][2:3]={{1,2}}', null),
    (3, 'me', '{"a": null}', '[null]', array['{}'::jsonb], array['1'::json], '{}', null, '{}', null,
      '[2:2]={7}'),
    (4, 'me', 'null', null, null, null, null, (select jsonb_agg(g) from generate_series(1, 100000) g), null,
      '[1:2][1:1]={{1},{2}}', '{1,2}'),
    (5, 'you', 'null', 'null', array['null'::jsonb], array['null'::json], 'null', 'null', '[5:5]={z}', null,
      null),
    (6, 'you', 'null', null, null, null, null, null, '[0:0]={y}', null, null);
  insert into kids values (1, 'me', 5), (2, 'you', 6);`;
const manifest = (closure: boolean) =>
  ownerManifest('lossy-values', {
    ...(closure ? { closure: 'parents' } : {}),
    // Without closure, kids (whose row 1 references you's doc) is not exported.
    tables: (closure ? ['docs', 'kids'] : ['docs']).map((name) => ({
      name,
      where: 't.owner = (select owner from params)',
    })),
  });

for (const way of ['no closure', 'closure by one query', 'closure by passed keys'])
  dbTest(
    `JSON nulls and array bounds are counted at export and not verified at load (${way})`,
    async ({ db }) => {
      await db.query(`${ddl}${rows}`);
      const out = join(dir, `c-${way}.json`);
      const closure = way !== 'no closure';
      const exported = await exportOwner(db, manifest(closure), out, {
        closureDirect: way === 'closure by one query',
      });
      // Closure adds you's row 5 (a parent of me's kid): its marks are counted too.
      const expected = closure
        ? { d: 3, j: 2, arr: 2, jarr: 2, dom: 2, big: 1, tags: 2, grid: 1, ints: 1 }
        : { d: 2, j: 1, arr: 1, jarr: 1, dom: 1, tags: 1, grid: 1, ints: 1 };
      expect(exported.lossy).toEqual({ docs: expected });
      // The rows are written without their marks, and the trailer's hash is of what is written.
      const text = await readFile(out, 'utf8');
      for (const mark of ['\u0003', '\u0004']) expect(text).not.toContain(mark);
      const capsule = JSON.parse(text) as {
        tables: { docs: Record<string, unknown>[] };
        integrity: { tables: { docs: { lossy: unknown } } };
      };
      expect(capsule.tables.docs.map((row) => row.id).sort()).toEqual(
        closure ? [1, 2, 3, 4, 5] : [1, 2, 3, 4],
      );
      expect(capsule.integrity.tables.docs.lossy).toEqual(expected);
      const reader = await openCapsule(out);
      for await (const batch of reader.batches()) void batch;
      expect(reader.summary().integrity).toMatchObject({ status: 'verified', lossy: { docs: expected } });
      expect(renderInspect(await inspectCapsule(out))).toMatch(/\nlossy: +docs\.d \d rows, docs\.j /);

      const replay = await db.sibling();
      await replay.query(ddl);
      const result = await materialize({
        manifest: manifest(closure),
        capsulePath: out,
        databaseUrl: replay.url,
      });
      expect(result.lossy).toEqual({ docs: expected });
      expect(result.valueDifferences).toEqual({});
      expect(result.verified).toBe(false);
      // What the counts stand for: the loaded values differ from the source's.
      const changed = `select d is null as d, tags = '[0:1]={a,b}' as tags from docs where id = 1`;
      expect(await db.query(changed)).toEqual([{ d: false, tags: true }]);
      expect(await replay.query(changed)).toEqual([{ d: true, tags: false }]);
    },
  );

dbTest('no JSON null, arrays from 1: nothing is recorded and the load is verified', async ({ db }) => {
  await db.query(`${ddl}
    insert into docs values (1, 'me', '{"a": null}', '[null]', array['1'::jsonb], null, '1', null,
        '{a,NULL}', '{{1},{2}}', '{}'),
      (2, 'me', null, null, null, null, null, null, null, null, null),
      (3, 'me', '""', '""', array['""'::jsonb, '0', '[]', '{}', 'true', null], array[null::json], '0', '[]',
        '{}', '{}', '{3}');`);
  const out = join(dir, 'clean.json');
  const exported = await exportOwner(db, manifest(false), out);
  expect(exported.lossy).toBeUndefined();
  expect(await readFile(out, 'utf8')).not.toContain('"lossy"');
  const replay = await db.sibling();
  await replay.query(ddl);
  const result = await materialize({ manifest: manifest(false), capsulePath: out, databaseUrl: replay.url });
  expect(result.lossy).toEqual({});
  expect(result.verified).toBe(true);
});

// Under safe redaction by SQL (REPLAY_ENV_EXPORT_SQL_REDACTION=1) a row may carry both marks: its lossy
// columns, then 0x03 for the JS redactor (row 4: `big` is an array, which only the JS redactor hashes).
dbTest.for(['1', '0'])(
  'lossy values under safe redaction (REPLAY_ENV_EXPORT_SQL_REDACTION=%s)',
  async (mode, { db }) => {
    await db.query(`${ddl}${rows}`);
    const redacted = ownerManifest('lossy-values', {
      tables: [{ name: 'docs', where: 't.owner = (select owner from params)' }],
    });
    redacted.redactionRules.push({ fields: ['big'], action: 'hash', prefix: 'h-', recursive: false });
    const previous = process.env.REPLAY_ENV_EXPORT_SQL_REDACTION;
    process.env.REPLAY_ENV_EXPORT_SQL_REDACTION = mode;
    try {
      const out = join(dir, `safe-${mode}.json`);
      const exported = await exportOwner(db, redacted, out, { redaction: 'safe' });
      expect(exported.lossy).toEqual({
        docs: { d: 2, j: 1, arr: 1, jarr: 1, dom: 1, tags: 1, grid: 1, ints: 1 },
      });
      const text = await readFile(out, 'utf8');
      for (const mark of ['\u0003', '\u0004']) expect(text).not.toContain(mark);
      const docs = (JSON.parse(text) as { tables: { docs: Record<string, unknown>[] } }).tables.docs;
      expect(docs.find((row) => row.id === 4)!.big).toMatch(/^h-[0-9a-f]{12}$/);
      const reader = await openCapsule(out);
      for await (const batch of reader.batches()) void batch;
      expect(reader.summary().integrity.status).toBe('verified');
    } finally {
      if (previous === undefined) delete process.env.REPLAY_ENV_EXPORT_SQL_REDACTION;
      else process.env.REPLAY_ENV_EXPORT_SQL_REDACTION = previous;
    }
  },
);

// The original tool's manifests may name the table by another alias in `from` and set no `alias`: the
// tests (which read "t".<column>) cannot run there. The export still works as before, says which table
// it could not test, and a broken snippet still fails with its own label (red team, session 14).
dbTest(
  'a from that names the table by another alias: exported, the table named as untested',
  async ({ db }) => {
    await db.query(`${ddl}${rows}`);
    const aliased = ownerManifest('lossy-values', {
      tables: [
        {
          name: 'docs',
          from: 'docs o',
          rowSql: 'to_jsonb(o)',
          where: 'o.owner = (select owner from params)',
        },
      ],
    });
    const out = join(dir, 'aliased.json');
    const exported = await exportOwner(db, aliased, out);
    expect(exported.lossyUntested).toEqual(['docs']);
    expect(exported.lossy).toBeUndefined();
    expect(exported.rowCounts).toEqual({ docs: 4 });
    expect(renderExport(exported)).toContain(
      'warning: docs: not tested for values the capsule cannot hold exactly',
    );
    const broken = ownerManifest('lossy-values', {
      tables: [{ name: 'docs', from: 'docs o', rowSql: 'to_jsonb(o)', where: 'o.nope = 1' }],
    });
    await expect(exportOwner(db, broken, join(dir, 'broken.json'))).rejects.toThrow(
      /^export: table docs .*column o\.nope does not exist/,
    );
  },
);

// 1,600 jsonb columns (the most PostgreSQL allows): the tests go through concat(), which takes at most 100
// arguments; the last column's JSON null is counted.
dbTest('a table of 1,600 jsonb columns: exported, its last column counted', async ({ db }) => {
  const names = Array.from({ length: 1598 }, (_, index) => `c${index}`);
  await db.query(`create table wide (id int primary key, owner text not null, ${names.map((n) => `${n} jsonb`).join(', ')});
    insert into wide (id, owner, c1597) values (1, 'me', 'null'), (2, 'me', '1');`);
  const wide = ownerManifest('lossy-values', {
    tables: [{ name: 'wide', where: 't.owner = (select owner from params)' }],
  });
  const exported = await exportOwner(db, wide, join(dir, 'wide.json'));
  expect(exported.rowCounts).toEqual({ wide: 2 });
  expect(exported.lossy).toEqual({ wide: { c1597: 1 } });
});

// The bounds test reads array_dims' text (no regular expression): every spelling of a bound other than 1.
dbTest('array bounds: lossy exactly when some dimension does not start at 1', async ({ db }) => {
  const rows = await db.query<{ v: string; lossy: string | null }>(
    `select v::text, ${lossyPrefix('s', [{ name: 'v', type: 'array' }])} as lossy from (values
       ('{}'::int[]), (null), ('{1,2}'), ('{{1,2},{3,4}}'), ('[0:1]={1,2}'), ('[10:11]={1,2}'),
       ('[-1:0]={1,2}'), ('[1:2][0:1]={{1,2},{3,4}}'), ('[1:2][11:12]={{1,2},{3,4}}'), ('[2:3][1:2]={{1,2},{3,4}}'))
       as s(v)`,
  );
  expect(rows.filter((row) => row.lossy !== '').map((row) => row.v)).toEqual([
    '[0:1]={1,2}',
    '[10:11]={1,2}',
    '[-1:0]={1,2}',
    '[1:2][0:1]={{1,2},{3,4}}',
    '[1:2][11:12]={{1,2},{3,4}}',
    '[2:3][1:2]={{1,2},{3,4}}',
  ]);
  expect(rows.filter((row) => row.lossy !== '').every((row) => row.lossy === '\u00040,')).toBe(true);
});
