import { describe, expect, it } from 'vitest';

import { valueAtPath } from './json-path.js';

describe('valueAtPath', () => {
  const doc = { data: { items: [{ id: 7 }, { id: null }] }, 'a.b': 1 };
  it.each([
    ['data.items.0.id', { found: true, value: 7 }],
    ['data.items.1.id', { found: true, value: null }],
    ['data.items', { found: true, value: doc.data.items }],
    ['', { found: true, value: doc }],
    ['data.items.2.id', { found: false, value: undefined }],
    ['data.nope', { found: false, value: undefined }],
    ['data.items.x', { found: false, value: undefined }],
    ['data.items.0.id.deeper', { found: false, value: undefined }],
  ])('%s', (path, expected) => {
    expect(valueAtPath(doc, path)).toEqual(expected);
  });
});
