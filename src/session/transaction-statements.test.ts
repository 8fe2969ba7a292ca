import { describe, expect, it } from 'vitest';

import { classifyTransactionStatement } from './transaction-statements.js';

describe('classifyTransactionStatement', () => {
  it.each([
    ['BEGIN', 'begin'],
    ['begin;', 'begin'],
    ['  BEGIN TRANSACTION ISOLATION LEVEL SERIALIZABLE;', 'begin'],
    ['START TRANSACTION READ ONLY', 'begin'],
    ['/* app */ begin', 'begin'],
    ['COMMIT', 'commit'],
    ['end;', 'commit'],
    ['commit work', 'commit'],
    ['ROLLBACK', 'rollback'],
    ['abort;', 'rollback'],
    ['ROLLBACK TO SAVEPOINT a', undefined],
    ["COMMIT PREPARED 'x'", undefined],
    ['SELECT 1', undefined],
    ['begin_work()', undefined],
    ['select * from begin', undefined],
  ])('%s → %s', (sql, expected) => {
    expect(classifyTransactionStatement(sql)).toBe(expected);
  });
});
