import { describe, expect, it } from 'vitest';

import { splitStatements, statementKind } from './sql-statements.js';

describe('statementKind', () => {
  it.each([
    ['BEGIN', 'begin'],
    ['begin;', 'begin'],
    ['  BEGIN TRANSACTION ISOLATION LEVEL SERIALIZABLE;', 'begin'],
    ['START TRANSACTION READ ONLY', 'begin'],
    ['/* app /* nested */ */ begin', 'begin'],
    ['-- note\nCOMMIT', 'commit'],
    ['end;', 'commit'],
    ['commit work', 'commit'],
    ['COMMIT AND CHAIN', 'commit-and-chain'],
    ['commit and no chain', 'commit'],
    ['ROLLBACK', 'rollback'],
    ['abort;', 'rollback'],
    ['ROLLBACK TO SAVEPOINT a', undefined],
    ['rollback work to a', undefined],
    ["COMMIT PREPARED 'x'", 'two-phase'],
    ["PREPARE TRANSACTION 'x'", 'two-phase'],
    ['SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY', 'set-transaction'],
    ['set transaction_isolation = 1', undefined],
    ['vacuum pgbench_branches', 'vacuum'],
    ['VACUUM (ANALYZE) t', 'vacuum'],
    ['analyze t', undefined],
    ['SELECT 1', undefined],
    ['begin_work()', undefined],
    ['select * from begin', undefined],
    ['do $$ begin commit; end $$', undefined],
  ])('%s → %s', (sql, expected) => {
    expect(statementKind(sql)).toBe(expected);
  });
});

describe('splitStatements', () => {
  it('splits on semicolons outside strings, identifiers, dollar quotes and comments', () => {
    expect(
      splitStatements(
        "insert into t values ('a;b', E'c\\';d'); commit; select \"x;y\" from t /* ; /* ; */ */ -- ;\n; do $f$ begin; end $f$; select $1",
      ).map((statement) => statement.trim()),
    ).toEqual([
      "insert into t values ('a;b', E'c\\';d');",
      'commit;',
      'select "x;y" from t /* ; /* ; */ */ -- ;\n;',
      'do $f$ begin; end $f$;',
      'select $1',
    ]);
  });

  it('drops empty statements and keeps a single one whole', () => {
    expect(splitStatements(' ; ;select 1;  ')).toEqual(['select 1;']);
    expect(splitStatements("select ';'")).toEqual(["select ';'"]);
  });
});
