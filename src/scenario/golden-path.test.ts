import { join, resolve } from 'node:path';

import { describe, expect, it } from 'vitest';

import { goldenPathOf } from './scenarios-file.js';

const loop = resolve('/work/loops/app');

describe('goldenPathOf', () => {
  it('defaults to golden/<id>.json and accepts a path inside the loop folder', () => {
    expect(goldenPathOf({ id: 'a-1' }, loop)).toBe(join(loop, 'golden', 'a-1.json'));
    expect(goldenPathOf({ id: 'a', golden: 'golden/x/..x.json' }, loop)).toBe(
      join(loop, 'golden/x/..x.json'),
    );
  });

  it.each([
    '../victim.txt',
    'golden/../../victim.txt',
    '/etc/passwd',
    'scenarios.yaml',
    'loop-state.yaml',
    '.',
  ])('refuses golden %s (golden save would overwrite it)', (golden) => {
    expect(() => goldenPathOf({ id: 'evil', golden }, loop)).toThrow(/not a file inside the loop folder/);
  });
});
