import { describe, expect, it } from 'vitest';

import {
  addForeignKeySql,
  deferrableForeignKeysSql,
  dropForeignKeySql,
  lockForeignKeysSql,
} from './deferred-foreign-keys.js';

const key = {
  table: 'tickets',
  name: '"Tickets Requester"',
  definition: 'FOREIGN KEY (org_id, requester_id) REFERENCES "Odd Schema".users(org_id, user_id) MATCH FULL',
  tableName: '"Odd Schema".tickets',
  referencedName: '"Odd Schema".users',
};

describe('deferred foreign key SQL', () => {
  it('lists only validated keys between plain tables, not referencing a table loaded later', () => {
    const sql = deferrableForeignKeysSql('public.tickets', ['public.notes', 'audit']);
    expect(sql.values).toEqual(['public.tickets', ['public.notes', 'audit']]);
    expect(sql.text).toMatch(/^\/\* tables\[public\.tickets\] foreign keys \*\/ select \$1::text as "table"/);
    for (const condition of [
      "where c.conrelid = to_regclass($1) and c.contype = 'f' and c.convalidated",
      "tc.relkind = 'r' and rc.relkind = 'r' and c.conparentid = 0 and c.conislocal",
      "pg_has_role(current_user, tc.relowner, 'USAGE')",
      "has_table_privilege(c.confrelid, 'REFERENCES')",
      "obj_description(c.oid, 'pg_constraint') is null",
      "current_setting('session_replication_role') <> 'replica'",
      "where u.conrelid = c.confrelid and u.contype = 'f' and u.confupdtype in ('c', 'n', 'd')",
      'and u.conkey && c.confkey)',
      "tc.relname !~ '^replay_stage_[0-9]+$' and rc.relname !~ '^replay_stage_[0-9]+$'",
      'not tc.relforcerowsecurity and not rc.relforcerowsecurity',
      'i.indexrelid <> c.conindid and i.indnkeyatts = cardinality(c.confkey)',
      'not exists (select from unnest($2::text[]) l where to_regclass(l) = c.confrelid)',
      "d.classid <> 'pg_trigger'::regclass",
      "d.deptype in ('e', 'x')",
      "t.tgconstraint = c.oid and t.tgenabled <> 'O'",
    ])
      expect(sql.text).toContain(condition);
  });

  it('locks both tables once each without waiting, drops by name, adds from pg_get_constraintdef', () => {
    const self = {
      ...key,
      name: 'users_manager_fk',
      table: 'users',
      tableName: 'users',
      referencedName: 'users',
    };
    expect(lockForeignKeysSql('tickets', [key, { ...key, name: 'other' }])).toEqual({
      text: '/* tables[tickets] foreign keys */ lock table "Odd Schema".tickets, "Odd Schema".users in access exclusive mode nowait',
      values: [],
    });
    expect(lockForeignKeysSql('users', [self]).text).toBe(
      '/* tables[users] foreign keys */ lock table users in access exclusive mode nowait',
    );
    expect(dropForeignKeySql(key)).toEqual({
      text: '/* tables[tickets] foreign keys */ alter table "Odd Schema".tickets drop constraint "Tickets Requester"',
      values: [],
    });
    expect(addForeignKeySql(key)).toEqual({
      text: '/* tables[tickets] foreign keys */ alter table "Odd Schema".tickets add constraint "Tickets Requester" FOREIGN KEY (org_id, requester_id) REFERENCES "Odd Schema".users(org_id, user_id) MATCH FULL',
      values: [],
    });
  });
});
