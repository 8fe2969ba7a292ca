import { describe, expect, it } from 'vitest';

import { valueMatches } from './sql.js';

describe('valueMatches (sql expectValue)', () => {
  it.each([
    ['2', 2, true],
    ['2', '2', true],
    ['2.50', 2.5, true],
    ['', 0, false],
    ['t', true, true],
    ['f', false, true],
    ['t', false, false],
    ['yes', true, false],
    [null, null, true],
    ['x', null, false],
    [null, 'x', false],
    ['{"a": [1, 2]}', { a: [1, 2] }, true],
    ['[1,2]', [2, 1], false],
    ['not json', { a: 1 }, false],
  ] as const)('%s vs %j → %s', (actual, expected, result) => {
    expect(valueMatches(actual, expected)).toBe(result);
  });
});
