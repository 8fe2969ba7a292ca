import { describe, expect, it } from 'vitest';

import { parseManifest } from '../manifest/index.js';
import { deleteSql, targetEmptySql, upsertSql } from '../materialize/sql.js';
import { buildTableQuery } from './export-sql.js';

// The SQL replay-env generates for tables whose names need quoting (postgres/identifiers.ts): the name
// as written is only ever a label; the statement itself carries the quoted, resolved parts.
const manifest = parseManifest(
  JSON.stringify({
    appId: 'names',
    adapter: 'postgres-subject-graph.v1',
    subjectKeys: ['customer_id'],
    postgres: {
      tables: [
        { name: 'user', deletePredicate: 't.customer_id = g.customer_id' },
        { name: 'order' },
        { name: '"Items"', alias: 'i' },
        { name: '"Sales Ops"."Deal Notes"' },
        { name: 'Tickets' },
      ],
    },
  }),
  { file: 'names.json', path: '/names.json', cwd: '/' },
);
const table = (name: string) => manifest.postgres.tables.find((t) => t.name === name)!;

describe('generated SQL for names that need quoting', () => {
  it.each([
    ['user', '"user" t'],
    ['order', '"order" t'],
    ['"Items"', '"Items" i'],
    ['"Sales Ops"."Deal Notes"', '"Sales Ops"."Deal Notes" t'],
    // an unquoted capital folds, as the original tool's unquoted SQL folded it
    ['Tickets', '"tickets" t'],
  ])('export reads %s from %s', (name, from) => {
    expect(table(name).from).toBe(from);
    expect(buildTableQuery(manifest, table(name)).text).toContain(`/* tables[${name}].from */\n${from}`);
  });

  it('materialize deletes, checks and upserts the quoted table', () => {
    expect(deleteSql(table('user'), ['customer_id'], [{ customer_id: '1' }])!.text).toMatch(
      /^\/\* tables\[user\] delete \*\/ delete from "user" as t\n/,
    );
    expect(targetEmptySql('"Sales Ops"."Deal Notes"').text).toBe(
      '/* tables["Sales Ops"."Deal Notes"] upsert */ select not exists (select 1 from "Sales Ops"."Deal Notes") as empty',
    );
    const upsert = upsertSql('order', 0, {
      columns: ['id', 'order'],
      primaryKey: ['id'],
      overridingSystemValue: false,
      targetEmpty: false,
    }).text;
    expect(upsert).toContain('insert into "order" as t ("id", "order")');
    expect(upsert).toContain('jsonb_populate_record(null::"order", s.doc)');
    expect(upsert).toContain('on conflict ("id") do update set "order" = excluded."order"');
  });
});
