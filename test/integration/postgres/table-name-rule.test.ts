import { describe, expect } from 'vitest';

import { parseTableName, quoteTable } from '../../../src/postgres/identifiers.js';
import { dbTest } from '../../setup/database.js';

// The manifest's table-name rule is Postgres' own name syntax (keywords aside): checked against the
// server's parser (parse_ident) and its resolver (to_regclass), not against our reading of the docs.
const names = [
  'tickets',
  'Tickets',
  'public.tickets',
  'PUBLIC.Tickets',
  '"Items"',
  '"a""b"',
  '"a.b"',
  '"Sales Ops"."Deal Notes"',
  'billing."Invoice Lines"',
  '_x9',
  '"ünïcode"',
];

describe('the table-name rule agrees with Postgres', () => {
  dbTest(
    'parse_ident gives the same parts; to_regclass and the quoted form find the same table',
    async ({ db }) => {
      for (const name of names) {
        const [row] = await db.query<{ parts: string[] }>('select parse_ident($1) as parts', [name]);
        const parsed = parseTableName(name);
        expect(typeof parsed, name).toBe('object');
        const mine = parsed as { schema: string | undefined; name: string };
        expect(row!.parts, name).toEqual(mine.schema === undefined ? [mine.name] : [mine.schema, mine.name]);
      }
      await db.query(`create schema "Sales Ops"; create table "Sales Ops"."Deal Notes" (id int);
                    create table "user" (id int); create table "Items" (id int); create table tickets (id int)`);
      for (const name of ['"Sales Ops"."Deal Notes"', 'user', '"Items"', 'Tickets', 'public.tickets']) {
        const [row] = await db.query<{ same: boolean }>(
          `select to_regclass($1) is not null and to_regclass($1) = $2::regclass as same`,
          [name, quoteTable(name)],
        );
        expect(row!.same, name).toBe(true);
      }
    },
  );
});
