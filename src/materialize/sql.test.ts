import { describe, expect, it } from 'vitest';

import type { ParsedTable } from '../manifest/index.js';
import { copyStageSql, deleteSql, insertStageChunkSql, targetEmptySql, upsertSql, verifySql } from './sql.js';

const users: ParsedTable = {
  name: 'users',
  alias: 'u',
  from: 'users u',
  rowSql: 'to_jsonb(u)',
  deletePredicate: 't.tenant_id = g.tenant_id and t.user_id = g.user_id',
};

describe('materialize SQL', () => {
  it('stages rows with COPY (CSV bytes JSON never contains) or jsonb chunks', () => {
    expect(copyStageSql('users', 0).text).toMatchInlineSnapshot(
      `"/* tables[users] stage */ copy "replay_stage_0" (doc) from stdin with (format csv, delimiter e'\\x02', quote e'\\x01')"`,
    );
    expect(insertStageChunkSql('users', 1, ['{"a":1}', '{"b":2}'])).toMatchInlineSnapshot(`
      {
        "text": "/* tables[users] stage */ insert into "replay_stage_1" (doc) select value from jsonb_array_elements($1::jsonb)",
        "values": [
          "[{"a":1},{"b":2}]",
        ],
      }
    `);
  });

  it('deletes by the labelled manifest predicate, graph keys as one parameter', () => {
    const sql = deleteSql(users, ['tenant_id', 'user_id'], [{ tenant_id: 'acme', user_id: "o'neil" }]);
    expect(sql).toMatchInlineSnapshot(`
      {
        "text": "/* tables[users] delete */ delete from "users" as t
       using jsonb_to_recordset($1::jsonb) as g("tenant_id" text, "user_id" text)
       where (/* tables[users].deletePredicate */ t.tenant_id = g.tenant_id and t.user_id = g.user_id
      )",
        "values": [
          "[{"tenant_id":"acme","user_id":"o'neil"}]",
        ],
      }
    `);
    expect(deleteSql({ ...users, deletePredicate: undefined }, ['tenant_id'], [])).toBeUndefined();
  });

  it('upserts typed columns by primary key, with OVERRIDING SYSTEM VALUE for identity ALWAYS', () => {
    expect(
      upsertSql('audit_events', 5, {
        columns: ['id', 'action'],
        primaryKey: ['id'],
        overridingSystemValue: true,
      }).text,
    ).toMatchInlineSnapshot(`
      "/* tables[audit_events] upsert */ insert into "audit_events" as t ("id", "action")
      overriding system value
      select r."id", r."action"
        from "replay_stage_5" s cross join lateral jsonb_populate_record(null::"audit_events", s.doc) as r
      on conflict ("id") do update set "action" = excluded."action""
    `);
    expect(
      upsertSql('tags', 0, { columns: ['a', 'b'], primaryKey: ['a', 'b'], overridingSystemValue: false })
        .text,
    ).toContain('on conflict ("a", "b") do nothing');
    expect(
      upsertSql('log', 0, { columns: ['a'], primaryKey: [], overridingSystemValue: false }).text,
    ).not.toContain('on conflict');
  });

  it('writes a plain insert into an empty target, except for do-nothing shapes', () => {
    const shape = { columns: ['id', 'action'], primaryKey: ['id'], overridingSystemValue: false };
    expect(upsertSql('audit_events', 2, { ...shape, targetEmpty: true }).text).toMatchInlineSnapshot(`
      "/* tables[audit_events] upsert */ insert into "audit_events" as t ("id", "action")
      select r."id", r."action"
        from "replay_stage_2" s cross join lateral jsonb_populate_record(null::"audit_events", s.doc) as r"
    `);
    expect(upsertSql('audit_events', 2, { ...shape, targetEmpty: false }).text).toContain(
      'on conflict ("id") do update set "action" = excluded."action"',
    );
    // do nothing absorbs a key repeated in the capsule; a plain insert would fail on it.
    expect(
      upsertSql('tags', 0, {
        columns: ['a', 'b'],
        primaryKey: ['a', 'b'],
        overridingSystemValue: false,
        targetEmpty: true,
      }).text,
    ).toContain('on conflict ("a", "b") do nothing');
    expect(targetEmptySql('audit_events').text).toMatchInlineSnapshot(
      `"/* tables[audit_events] upsert */ select not exists (select 1 from "audit_events") as empty"`,
    );
  });

  it('verifies by primary key', () => {
    expect(verifySql('users', 1, ['tenant_id', 'user_id']).text).toMatchInlineSnapshot(`
      "/* tables[users] verify */ select count(*)::bigint as n
        from "replay_stage_1" s cross join lateral jsonb_populate_record(null::"users", s.doc) as r
       where exists (select 1 from "users" t where t."tenant_id" = r."tenant_id" and t."user_id" = r."user_id")"
    `);
  });
});
