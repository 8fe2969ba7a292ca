import { describe, expect, it } from 'vitest';

import { formatDuration, parseDuration } from './duration.js';

describe('durations (--expires-in, --older-than)', () => {
  it('parses m/h/d/w and refuses anything else naming the flag', () => {
    expect(parseDuration('30m', '--x')).toBe(1_800_000);
    expect(parseDuration('2w', '--x')).toBe(14 * 86_400_000);
    expect(() => parseDuration('0d', '--older-than')).toThrow(/--older-than "0d" is not a duration/);
    expect(() => parseDuration('7 days', '--x')).toThrow(/not a duration/);
  });

  it('formats back in the largest exact unit (prune says why it removed a capsule)', () => {
    expect(formatDuration(parseDuration('30d', '--x'))).toBe('30d');
    expect(formatDuration(parseDuration('2w', '--x'))).toBe('14d');
    expect(formatDuration(parseDuration('12h', '--x'))).toBe('12h');
    expect(formatDuration(parseDuration('90m', '--x'))).toBe('90m');
    expect(formatDuration(1500)).toBe('2s');
  });
});
