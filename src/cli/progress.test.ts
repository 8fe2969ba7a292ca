import { describe, expect, it } from 'vitest';

import { createProgressReporter, progressEnabled } from './progress.js';

function fakeStream() {
  const writes: string[] = [];
  return { writes, write: (text: string) => writes.push(text) };
}

describe('createProgressReporter', () => {
  it('redraws one line in place at most every intervalMs and ends each table with a newline', () => {
    const stream = fakeStream();
    let clock = 0;
    const progress = createProgressReporter({ enabled: true, stream, intervalMs: 100, now: () => clock });
    progress.update('users', 10);
    clock = 50;
    progress.update('users', 20); // too soon: not drawn
    clock = 1000;
    progress.update('users', 5000);
    clock = 2000;
    progress.done('users', 8000);
    progress.update('orders', 1);
    progress.stop();
    expect(stream.writes).toEqual([
      '\r\x1b[2Kusers: 10 rows (10,000 rows/s)',
      '\r\x1b[2Kusers: 5,000 rows (5,000 rows/s)',
      '\r\x1b[2Kusers: 8,000 rows (4,000 rows/s, 2.0 s)\n',
      '\r\x1b[2Korders: 1 rows (1,000 rows/s)',
      '\r\x1b[2K',
    ]);
  });

  it('does nothing when disabled', () => {
    const stream = fakeStream();
    const progress = createProgressReporter({ enabled: false, stream });
    progress.update('t', 1);
    progress.done('t', 1);
    progress.stop();
    expect(stream.writes).toEqual([]);
  });

  it.each([
    [false, true, true],
    [true, true, false],
    [false, false, false],
    [false, undefined, false],
  ])('enabled only on a TTY without --json (json=%s, isTTY=%s → %s)', (json, isTTY, expected) => {
    expect(progressEnabled(json, { isTTY })).toBe(expected);
  });
});
