import { describe, expect, it } from 'vitest';

import { copyBytes, sameBytes } from './short-bytes.js';

describe('short-bytes', () => {
  // Both sides of the loop/native switch (48 bytes), and a difference in the last byte only.
  for (const length of [0, 1, 47, 48, 49, 300]) {
    it(`copies and compares ${length} bytes as Buffer.copy and Buffer.compare do`, () => {
      const src = Buffer.from(Array.from({ length: length + 7 }, (_, i) => (i * 31) & 0xff));
      const dst = Buffer.alloc(length + 5, 0xee);
      expect(copyBytes(src, 4, 4 + length, dst, 3)).toBe(length);
      const expected = Buffer.alloc(length + 5, 0xee);
      src.copy(expected, 3, 4, 4 + length);
      expect(dst).toEqual(expected);
      expect(sameBytes(src, 4, dst, 3, length)).toBe(true);
      if (length === 0) return;
      dst[3 + length - 1]! ^= 1;
      expect(sameBytes(src, 4, dst, 3, length)).toBe(false);
    });
  }
});
