import { describe, expect, it } from 'vitest';

import { fail, pass, summarize, uniqueIds, warn } from './check.js';

// docs/doctor.md: "ids are stable and unique within a result (a repeat gets #2, #3…)".
describe('doctor check ids and summary', () => {
  it('suffixes repeats #2, #3… and leaves the first and unrelated ids alone', () => {
    const checks = uniqueIds([
      fail('columns.tables[orders].where', 'tables[orders].where', 'column o.a does not exist'),
      pass('db.table.orders', 'table orders', 'exists'),
      fail('columns.tables[orders].where', 'tables[orders].where', 'column o.b does not exist'),
      warn('columns.tables[orders].where', 'tables[orders].where', 'column o.c is ambiguous'),
    ]);
    expect(checks.map((check) => check.id)).toEqual([
      'columns.tables[orders].where',
      'db.table.orders',
      'columns.tables[orders].where#2',
      'columns.tables[orders].where#3',
    ]);
    expect(summarize(checks)).toEqual({ passed: 1, warnings: 1, failed: 2 });
  });
});
