import { describe, expect, it } from 'vitest';

import { parseManifest } from '../manifest/index.js';
import { deleteSql } from '../materialize/sql.js';
import { buildClosureDirectQuery, buildClosureRowsQuery, buildOwnRowsQuery } from './closure-sql.js';
import { buildTableCopy } from './export-sql.js';

// A manifest snippet ending in a `--` line comment must not comment out the SQL the tool generates after it
// (ORDER BY, a closing parenthesis, `) to stdout`): every snippet is followed by a newline.
const commented = parseManifest(
  JSON.stringify({
    appId: 'shop',
    adapter: 'postgres-subject-graph.v1',
    subjectKeys: ['customer_id'],
    postgres: {
      closure: 'parents',
      tables: [
        {
          name: 'orders',
          alias: 'o',
          rowSql: 'to_jsonb(o) --',
          from: 'orders o --',
          where: 'true --',
          orderBy: 'o.id --',
          deletePredicate: 't.customer_id = g.customer_id::int --',
        },
      ],
    },
  }),
  { file: 'm.json', path: '/tmp/m.json', cwd: '/tmp' },
);
const table = commented.postgres.tables[0]!;

/** The SQL with every `--` comment removed, as the server reads it. */
const uncommented = (text: string) => text.replace(/--[^\n]*/g, '');

describe('a snippet ending in a line comment', () => {
  it('keeps the export COPY whole: rowSql cast, from, where, order by and the COPY wrapper', () => {
    const sql = uncommented(buildTableCopy(commented, table, {}).text);
    expect(sql).toMatch(/to_jsonb\(o\) \n\)::jsonb::text\nfrom\n/);
    expect(sql).toMatch(/\nwhere\n\/\* tables\[orders\]\.where \*\/\ntrue \norder by\n/);
    expect(sql).toMatch(/o\.id \n\) to stdout with \(format binary\)$/);
  });

  it('keeps the closure queries whole', () => {
    const own = uncommented(buildOwnRowsQuery(commented, table, []).text);
    expect(own).toMatch(/true \norder by\n/);
    const target = { columns: ['id'], types: ['integer'] };
    const keyed = uncommented(buildClosureRowsQuery(commented, table, target, []).text);
    expect(keyed).toMatch(/true \n\)/);
    const fk = {
      name: 'self',
      child: 'orders',
      parent: 'orders',
      columns: ['id'],
      referencedColumns: ['id'],
      referencedTypes: ['integer'],
    };
    const direct = uncommented(buildClosureDirectQuery(commented, table, target, [{ table, fk }], []).text);
    expect(direct).toMatch(
      /orders o \n {4}where\n\/\* tables\[orders\]\.where \*\/\ntrue \n\) as replay_closure_key/,
    );
    expect(direct).toMatch(
      /\nexcept\nselect "o"\."id" from\n\/\* tables\[orders\]\.from \*\/\norders o \n {2}where\n/,
    );
    expect(direct).toMatch(/\/\* tables\[orders\]\.where \*\/\ntrue \n\)\nselect/);
  });

  it('keeps the delete predicate parenthesis closed', () => {
    const sql = uncommented(deleteSql(table, ['customer_id'], [{ customer_id: '1' }])!.text);
    expect(sql).toMatch(/g\.customer_id::int \n\)$/);
  });
});
