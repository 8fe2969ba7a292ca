import { describe, expect } from 'vitest';

import { parseManifest } from '../../../src/manifest/index.js';
import { materialize } from '../../../src/services/materialize.js';
import { dumpTables, rowTexts, writeSubjectCapsule } from '../../setup/capsules.js';
import { dbTest } from '../../setup/database.js';

const schema = `
create type mood as enum ('happy', 'sad', 'it''s complicated');
create domain positive_amount as numeric(20, 6) check (value > 0);
create type money_pair as (currency text, amount numeric);
create table accounts (
  account_id uuid primary key,
  tenant text not null
);
create table things (
  id bigint generated always as identity primary key,
  account_id uuid not null references accounts,
  tenant text not null,
  label text not null,
  tags text[] not null default '{}',
  grid integer[][],
  blob bytea,
  doc jsonb,
  raw_json json,
  big numeric,
  amount positive_amount,
  feeling mood,
  born date,
  at_local timestamp,
  at_zone timestamptz,
  took interval,
  addr inet,
  net cidr,
  ratio double precision,
  flag boolean,
  pair money_pair,
  label_length integer generated always as (length(label)) stored
);`;

const data = `
insert into accounts values ('7b0c6a0e-1f7e-4c4e-9a51-8d4c9a1c2b3d', 't1'), ('11111111-2222-4333-8444-555555555555', 't2');
insert into things (account_id, tenant, label, tags, grid, blob, doc, raw_json, big, amount, feeling, born, at_local, at_zone, took, addr, net, ratio, flag, pair)
overriding system value values
  ('7b0c6a0e-1f7e-4c4e-9a51-8d4c9a1c2b3d', 't1', E'quote " backslash \\\\ tab \\t newline \\n emoji 🎉 ''single''',
   array['a,b', 'c"d', null, 'e\\f', ''], '{{1,2},{3,4}}', '\\x00ff10', '{"nested": {"k": [1, 2.50, null]}, "s": "x"}',
   '{"b": 1,   "a": [true]}', 12345678901234567890.123456789012, 0.000001, 'it''s complicated', '2024-02-29',
   '2026-01-05 11:00:00.123456', '2026-01-05 10:00:00.5+02', '1 year 2 mons 3 days 04:05:06.789', '192.168.1.10/24', '10.0.0.0/8',
   'NaN', true, row('EUR', 19.90)),
  ('7b0c6a0e-1f7e-4c4e-9a51-8d4c9a1c2b3d', 't1', '', '{}', null, null, null, null, -0.0000000001, null, 'happy', null, null,
   'infinity', null, '::1', null, '-Infinity', false, null),
  ('11111111-2222-4333-8444-555555555555', 't2', 'other tenant', '{}', null, null, null, null, 1, null, null, null, null, null, null, null, null, 1e-300, null, null);
`;

const manifest = parseManifest(
  JSON.stringify({
    appId: 'types',
    adapter: 'postgres-subject-graph.v1',
    subjectKeys: ['tenant'],
    postgres: {
      graphEdges: [],
      tableOrder: ['accounts', 'things'],
      tables: [
        {
          name: 'accounts',
          where: 't.tenant = (select tenant from params)',
          deletePredicate: 't.tenant = g.tenant',
        },
        {
          name: 'things',
          where: 't.tenant = (select tenant from params)',
          deletePredicate: 't.tenant = g.tenant',
        },
      ],
    },
  }),
  { file: 'types.json', path: '/virtual/types.json', cwd: '/virtual' },
);

describe.each(['copy', 'jsonb'] as const)(
  'arrays, bytea, json, numeric, enums, domains… (%s)',
  (loadStrategy) => {
    dbTest('to_jsonb of every loaded row equals the capsule row', async ({ db }) => {
      await db.query(schema);
      await db.query(data);
      const capsuleTables = {
        accounts: await rowTexts(db, 'accounts', "t.tenant = 't1'"),
        things: await rowTexts(db, 'things', "t.tenant = 't1'"),
      };
      const path = await writeSubjectCapsule('types', { tenant: 't1' }, capsuleTables);
      const target = await db.sibling();
      await target.query(schema);
      await target.query(data); // same starting point; the capsule then replaces t1's rows
      await target.query("update things set label = 'drifted' where tenant = 't1'");
      const result = await materialize({
        manifest,
        capsulePath: path,
        databaseUrl: target.url,
        loadStrategy,
      });
      expect(result.verified).toBe(true);
      expect(await rowTexts(target, 'things', "t.tenant = 't1'")).toEqual(capsuleTables.things);
      expect(await dumpTables(target, ['accounts', 'things'])).toEqual(
        await dumpTables(db, ['accounts', 'things']),
      );
      const [first] = await target.query<{ big: string; raw: string }>(
        "select big::text as big, raw_json::text as raw from things where label like 'quote%'",
      );
      expect(first!.big).toBe('12345678901234567890.123456789012');
      expect(JSON.parse(first!.raw)).toEqual({ b: 1, a: [true] });
    });
  },
);
