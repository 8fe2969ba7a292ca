import { describe, expect, it } from 'vitest';

import { hashValue } from './hash.js';
import { redactValue } from './redact-value.js';

describe('redactValue', () => {
  it.each([
    ['empty', ''],
    ['null', null],
    ['empty_object', {}],
    ['empty_array', []],
    ['hash', hashValue('secret', 'p-')],
  ] as const)('%s', (action, expected) => {
    expect(redactValue(action, 'p-', 'secret')).toEqual(expected);
  });

  it.each(['empty', 'null', 'empty_object', 'empty_array', 'hash'] as const)(
    '%s leaves null and "" as they are',
    (action) => {
      expect(redactValue(action, 'p-', null)).toBeNull();
      expect(redactValue(action, 'p-', '')).toBe('');
    },
  );
});
