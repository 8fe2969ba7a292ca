import { readFile } from 'node:fs/promises';

import pg from 'pg';
import { expect } from 'vitest';

import { rowTextSql } from '../../../src/materialize/row-text-sql.js';
import { readTables } from '../../../src/postgres/catalog.js';
import { quoteTable } from '../../../src/postgres/identifiers.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';
import { loadPagilaData, loadPagilaSchema } from '../../setup/pagila.js';

/**
 * Value verification's server side prints each loaded row with rowTextSql (column by column, cheaper)
 * where the client hashes the capsule's `to_jsonb(row)::text`: the two must be the same bytes for every
 * type, or every load of that type pays for the exact comparison. Compared here row by row, also without
 * some columns (the load did not write them) and in two time zones.
 */
async function differences(db: TestDatabase): Promise<{ rows: number; differ: string[] }> {
  const client = new pg.Client({ connectionString: db.url.connectionString() });
  await client.connect();
  try {
    const names = (
      await client.query<{ name: string }>(
        `select c.relname::text as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = 'public' and c.relkind in ('r', 'p') order by 1`,
      )
    ).rows.map((row) => row.name);
    const infos = await readTables(client, names);
    let rows = 0;
    const differ: string[] = [];
    for (const zone of ['UTC', 'America/St_Johns']) {
      await client.query(`set timezone = '${zone}'`);
      for (const [name, info] of infos) {
        // Every column, then without the first and any generated one (as a load that did not write them).
        const subsets = [info.columns, info.columns.filter((c, i) => i > 0 && !c.generated)];
        for (const columns of subsets) {
          const left = info.columns.filter((c) => !columns.includes(c)).map((c) => c.name);
          const result = await client.query<{ expected: string; got: string }>(
            `select (to_jsonb(t.*) - $1::text[])::text as expected, (${rowTextSql('t', columns)}) as got
               from ${quoteTable(name)} t`,
            [left],
          );
          rows += result.rows.length;
          for (const row of result.rows)
            if (row.got !== row.expected) differ.push(`${zone} ${name}: ${row.got} <> ${row.expected}`);
        }
      }
    }
    return { rows, differ };
  } finally {
    await client.end();
  }
}

const everyType = `
create type mood as enum ('happy', 'it''s "complicated"');
create domain positive as numeric(20, 6) check (value > 0);
create domain doc as jsonb;
create type pair as (currency text, amount numeric);
create table every_type (
  "id" bigint primary key, small smallint, normal integer, "Mixed Case" text, "quote""d" varchar(10),
  "back\\slash" character(4), "é" boolean, "ключ" numeric, num_scale numeric(12, 3), u uuid, b bytea,
  ip inet, net cidr, d date, ts timestamp, ts3 timestamp(3), tz timestamptz, tz0 timestamptz(0),
  t time, ttz timetz, iv interval, iv2 interval(2), ivf interval day to second, js json, jb jsonb,
  dom doc, pos positive, m mood, p pair, f4 real, f8 double precision, arr text[], grid integer[][],
  jarr jsonb[], mon money, bits bit(3), vbits varbit, tsv tsvector, rng int4range, x xml, pt point,
  ch "char", nm name, o oid, g integer generated always as (normal / 2) stored
);`;

const everyValue = `
insert into every_type (id, small, normal, "Mixed Case", "quote""d", "back\\slash", "é", "ключ", num_scale, u, b,
  ip, net, d, ts, ts3, tz, tz0, t, ttz, iv, iv2, ivf, js, jb, dom, pos, m, p, f4, f8, arr, grid, jarr, mon, bits,
  vbits, tsv, rng, x, pt, ch, nm, o) values
 (1, -32768, 2147483647, E'quote " backslash \\\\ tab \\t newline \\n cr \\r bell \\x07 emoji 🎉 é', 'ü"\\',
  'a\\b', true, 'NaN', -0.000, '7b0c6a0e-1f7e-4c4e-9a51-8d4c9a1c2b3d', '\\x00ff10', '::1', '10.0.0.0/8',
  'infinity', '-infinity', '2026-01-05 11:00:00.123', '2026-01-05 10:00:00.5+02', '2026-06-30 23:59:59.9+05:30',
  '24:00:00', '10:00:00.123+05:30', '-1 year 2 mons 3 days 04:05:06.789', '1.234 seconds', '1 day 2 hours',
  '{"b": 1,   "a": [true], "a": "dup"}', '{"é": "\\u00e9\\n\\u0001", "aa": {"b": [1, 2.50, -0, 1e2]}, "a": null}',
  '"a scalar"', 0.000001, 'it''s "complicated"', row('EUR', 19.90), 'NaN', 1e-300, array['a,b', 'c"d', null, 'e\\f', ''],
  '{{1,2},{3,NULL}}', array['{"k": "v"}'::jsonb, 'null'::jsonb], 12.5, '101', '1', 'fat:2 rat:1 "a b"',
  '[1,5)', '<a b="c">x</a>', '(1.5,-2)', 'x', 'a name', 4294967295),
 (2, 0, 0, '', '', ' ', false, 'Infinity', 123456789.125, null, '\\x', '192.168.1.10/24', '192.168.0.0/16',
  '0044-03-15 BC', 'infinity', null, '1970-01-01 00:00:00+00', '-infinity', '00:00', '00:00+00', '0', '0', '-0',
  '[]', '{}', '[1, "two", {"3": 3}]', 12345678901234.123456, 'happy', row(null, null), '-Infinity',
  -0.0, '{}', null, '{}', '-0.01', '000', '', '', 'empty', null, null, E'\\\\', '', 0),
 (3, null, null, null, null, null, null, '-123456789012345678901234567890.000000000000000000001', null, null, null,
  null, null, '2024-02-29', '2026-12-31 23:59:59.999999', null, '2026-03-29 01:30:00+00', null, null, null, null,
  null, null, '{"deep": {"deeper": [{"é": "\\ud83d\\ude00"}]}}', '"\\\\"', null, null, null, null, 1.5e30,
  123456789.123456789, null, null, null, null, null, null, null, null, null, null, null, null, null);`;

dbTest('rowTextSql prints every type exactly as to_jsonb(row)::text does', async ({ db }) => {
  await db.query(everyType);
  await db.query(everyValue);
  const extensions = await db.query<{ name: string }>(
    `select name from pg_available_extensions where name in ('hstore', 'citext')`,
  );
  // Extension types with their own casts to json/jsonb (hstore) print through to_jsonb.
  for (const { name } of extensions) {
    await db.query(`create extension ${name}`);
    await db.query(`create table ext_${name} (id int primary key, v ${name})`);
    const value = name === 'hstore' ? `'b=>1, a=>"x \\"y\\"", "c d"=>NULL'` : `'MiXeD Çase'`;
    await db.query(`insert into ext_${name} values (1, ${value}), (2, null)`);
  }
  const { rows, differ } = await differences(db);
  expect(differ).toEqual([]);
  // 3 rows × 2 column subsets × 2 time zones, plus the extension tables'.
  expect(rows).toBe(12 + extensions.length * 8);
});

dbTest('rowTextSql prints every row of Pagila exactly as to_jsonb(row)::text does', async ({ db }) => {
  await loadPagilaSchema(db);
  await loadPagilaData(db);
  const { rows, differ } = await differences(db);
  expect(differ).toEqual([]);
  expect(rows).toBeGreaterThan(1000);
});

dbTest(
  'rowTextSql prints every row of the fidelity fixture exactly as to_jsonb(row)::text does',
  async ({ db }) => {
    for (const file of ['schema.sql', 'seed.sql'])
      await db.query(await readFile(new URL(`../../fixtures/fidelity/${file}`, import.meta.url), 'utf8'));
    const { rows, differ } = await differences(db);
    expect(differ).toEqual([]);
    expect(rows).toBeGreaterThan(10);
  },
);
