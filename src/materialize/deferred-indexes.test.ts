import { describe, expect, it } from 'vitest';

import { createIndexSql, deferrableIndexesSql, dropIndexSql, lockNowaitSql } from './deferred-indexes.js';

describe('deferred index SQL', () => {
  it('lists only plain, restorable secondary indexes of the table, the name as a parameter', () => {
    const sql = deferrableIndexesSql('public.film');
    expect(sql.values).toEqual(['public.film']);
    expect(sql.text).toMatch(/^\/\* tables\[public\.film\] indexes \*\/ select \$1::text as "table"/);
    expect(sql.text).toContain('where i.indrelid = to_regclass($1)');
    for (const condition of [
      "tc.relkind = 'r' and ic.relkind = 'i'",
      'not i.indisunique and not i.indisprimary and not i.indisexclusion',
      'i.indisvalid and i.indisready and i.indislive',
      'not i.indisreplident and not i.indisclustered',
      'ic.reltablespace = 0',
      "pg_has_role(current_user, tc.relowner, 'USAGE')",
      "obj_description(i.indexrelid, 'pg_class') is null",
      'not exists (select from pg_constraint c where c.conindid = i.indexrelid)',
      'not exists (select from pg_inherits h where h.inhrelid = i.indexrelid)',
      "d.deptype in ('i', 'e', 'x')",
      'a.attstattarget is not null and a.attstattarget <> -1',
    ])
      expect(sql.text).toContain(condition);
  });

  it('drops by the regclass text and recreates from pg_get_indexdef, labelled by table', () => {
    const index = {
      table: 'film',
      index: '"Odd Schema"."idx title"',
      definition: 'CREATE INDEX "idx title" ON "Odd Schema".film USING btree (title) WHERE (rating > 1)',
      tableName: '"Odd Schema".film',
    };
    expect(dropIndexSql(index)).toEqual({
      text: '/* tables[film] indexes */ drop index "Odd Schema"."idx title"',
      values: [],
    });
    expect(createIndexSql(index)).toEqual({
      text: '/* tables[film] indexes */ CREATE INDEX "idx title" ON "Odd Schema".film USING btree (title) WHERE (rating > 1)',
      values: [],
    });
  });

  it('locks the table by its regclass name without waiting, in plain SQL (no DO block: plpgsql may be revoked)', () => {
    expect(lockNowaitSql({ table: 'film', tableName: '"Odd Schema".film' })).toEqual({
      text: '/* tables[film] indexes */ lock table "Odd Schema".film in access exclusive mode nowait',
      values: [],
    });
  });
});
