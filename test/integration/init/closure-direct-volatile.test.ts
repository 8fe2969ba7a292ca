import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import pg from 'pg';
import { expect } from 'vitest';

import { readUnrepeatableTables } from '../../../src/export/closure-catalog.js';
import { dbTest } from '../../setup/database.js';
import { exportOwner, ownerManifest } from '../../setup/export-owner.js';
import { useTempDir } from '../../setup/temp-dir.js';

let dir: string;
useTempDir('closure-volatile-', (path) => (dir = path));

// Closure's one-query path (closure-direct.ts) runs a child's from/where a second time to find the
// parents its rows reference. A snippet that samples (random(), tablesample) or reads the clock
// (clock_timestamp()) selects other rows the second time, and an orderBy with a limit selects fewer the
// first time: parents of exported rows would be missing (dangling references) and parents of rows not
// exported would enter. Such a child's keys must be passed.
const schema = `
  create table parents (id int primary key, owner text not null);
  create table kids (id int primary key, owner text not null, parent_id int references parents);
  create function sampled(n int) returns boolean language sql volatile as 'select random() < 0.5';
  insert into parents select g, 'me' from generate_series(1, 400) g;
  insert into kids select g, 'me', g from generate_series(1, 400) g;
`;

const mine = 't.owner = (select owner from params)';
const samplers: Record<string, { where: string; from?: string; orderBy?: string }> = {
  'random()': { where: `${mine} and random() < 0.5` },
  'a volatile function of the schema': { where: `${mine} and SAMPLED (t.id)` },
  'clock_timestamp()': {
    where: `${mine} and extract(microseconds from clock_timestamp())::int % 2 = t.id % 2`,
  },
  tablesample: { from: 'kids t tablesample bernoulli (50)', where: mine },
  'an orderBy with a limit': { where: mine, orderBy: 't.id desc limit 150' },
};

/** A manifest of subject key `owner` with these postgres settings. */
const manifestOf = (postgres: Record<string, unknown>) => ownerManifest('volatile', postgres);

for (const [name, kids] of Object.entries(samplers)) {
  dbTest(`a child sampled with ${name}: every referenced parent, no other`, async ({ db }) => {
    await db.query(schema);
    const manifest = manifestOf({
      closure: 'parents',
      tables: [
        { name: 'parents', where: 'false' },
        { name: 'kids', ...kids },
      ],
    });
    const out = join(dir, 'c.json');
    await exportOwner(db, manifest, out);
    const capsule = JSON.parse(await readFile(out, 'utf8')) as {
      tables: { parents: { id: number }[]; kids: { parent_id: number }[] };
    };
    const referenced = capsule.tables.kids.map((kid) => kid.parent_id).sort((a, b) => a - b);
    expect(referenced.length).toBeGreaterThan(0);
    expect(referenced.length).toBeLessThan(400);
    expect(capsule.tables.parents.map((parent) => parent.id).sort((a, b) => a - b)).toEqual(referenced);
  });
}

dbTest(
  'the usual snippets keep the one-query path; the sampling, cutting and clock-reading ones do not',
  async ({ db }) => {
    await db.query(schema);
    const plain = {
      own: { where: mine },
      window: { where: `${mine} and t.id > 0 and (select since_at from params) is not null` },
      joined: { from: 'kids t join graph_keys g on g.owner = t.owner', where: "lower(t.owner) <> 'x'" },
      nested: { where: `exists (select 1 from parents p where p.id = t.parent_id and p.owner = t.owner)` },
      named: { where: `${mine} and t.owner <> 'credit_limit_or_random_offset'`, orderBy: 't.id desc' },
      'named like clocks': { where: `${mine} and t.owner not in ('nowadays', 'current_dates', 'ages')` },
      'a stable function of the catalog': { where: `${mine} and to_char(t.id, '999') <> ''` },
      'a literal cast to a date type': {
        where: `${mine} and '2020-01-01'::timestamptz < (select since_at from params)`,
      },
    };
    // Clocks (closure-clock.test.ts): each connection its own now(), each statement its own time.
    const clocks = {
      'now()': { where: `${mine} and now() > '2000-01-01'` },
      'statement_timestamp()': { where: `${mine} and Statement_Timestamp () > '2000-01-01'` },
      current_date: { where: `${mine} and CURRENT_DATE > '2000-01-01'` },
      localtimestamp: { where: `${mine} and localtimestamp(3) > '2000-01-01'` },
      "'now'": { where: `${mine} and ' now'::timestamptz > '2000-01-01'` },
      "'today'": { where: `${mine} and 'Today'::date > '2000-01-01'` },
      'age(t)': { where: `${mine} and age('2000-01-01'::timestamp) > '1 day'` },
      'a stable function of the schema': { where: `${mine} and later(t.id)` },
      // Red team: spellings the first tests could not read, and the connection instead of the clock.
      'a comment before the parenthesis': { where: `${mine} and now/**/() > '2000-01-01'` },
      'a dollar-quoted literal': { where: `${mine} and $$now$$::timestamptz > '2000-01-01'` },
      'an escaped literal': { where: `${mine} and E'\\x6eow'::timestamptz > '2000-01-01'` },
      'a Unicode literal': { where: `${mine} and U&'\\006Eow'::timestamptz > '2000-01-01'` },
      'a computed cast': { where: `${mine} and ('no' || 'w')::timestamptz > '2000-01-01'` },
      'a cast by cast()': {
        where: `${mine} and cast('no' || 'w' as timestamp with time zone) > '2000-01-01'`,
      },
      'a literal continued on the next line': { where: `${mine} and 'no'\n'w' <> ''` },
      'pg_backend_pid()': { where: `${mine} and t.id % 2 = pg_backend_pid() % 2` },
      "current_setting('x')": { where: `${mine} and current_setting('application_name') <> ''` },
      'an operator of the schema over a stable function': { where: `${mine} and t.id >>>> 0` },
      'a computed cast to a qualified type': {
        where: `${mine} and ('no' || 'w')::pg_catalog.timestamptz > '2000-01-01'`,
      },
      'cast() to a qualified type': {
        where: `${mine} and cast('no' || 'w' as pg_catalog.timestamptz) > '2000-01-01'`,
      },
      "'today 00:00'": { where: `${mine} and timestamptz 'today 00:00' > '2000-01-01'` },
      'a cast to a domain over a date type': { where: `${mine} and ('no' || 'w')::moment > '2000-01-01'` },
      'a view': { where: `${mine} and exists (select from pg_stat_activity a where a.pid = t.id)` },
    };
    await db.query(`create function later(n int) returns boolean language sql stable as 'select n > 0'`);
    await db.query(`create domain moment as timestamptz`);
    await db.query(
      `create function later2(a int, b int) returns boolean language sql stable as 'select a > b'`,
    );
    await db.query(`create operator >>>> (leftarg = int, rightarg = int, function = later2)`);
    const tables = Object.entries({ ...plain, ...samplers, ...clocks }).map(([name, snippets]) => ({
      name,
      ...snippets,
    }));
    const manifest = manifestOf({
      tables: tables.map(({ name, ...rest }) => ({ name: `"${name}"`, from: 'kids t', ...rest })),
    });
    const client = new pg.Client({ connectionString: db.url.connectionString() });
    await client.connect();
    try {
      const flagged = await readUnrepeatableTables(client, db.url, manifest.postgres.tables);
      expect([...flagged].sort()).toEqual(
        Object.keys({ ...samplers, ...clocks })
          .map((name) => `"${name}"`)
          .sort(),
      );
    } finally {
      await client.end();
    }
  },
);
