import { expect } from 'vitest';

import { recordUntilStopped } from '../../../src/services/record.js';
import { dbTest } from '../../setup/database.js';
import { tempDir } from './helpers.js';

// A supervisor may send SIGTERM the moment it reads the banner. CI once saw `record` die by the signal
// itself (no clean stop, no session files): the banner was printed before the stop listeners existed.
dbTest('record listens for SIGINT/SIGTERM before it prints that it started', async ({ db }) => {
  const before = { SIGINT: process.listenerCount('SIGINT'), SIGTERM: process.listenerCount('SIGTERM') };
  const seen: number[] = [];
  const result = await recordUntilStopped({
    listen: '127.0.0.1:0',
    target: db.url,
    pseudoUsers: [{ name: 'pseudo_user', password: 'pseudo-pw' }],
    sessionsDir: await tempDir('record-stop-signal'),
    clientTls: 'off',
    onStarted: () => {
      seen.push(
        process.listenerCount('SIGINT') - before.SIGINT,
        process.listenerCount('SIGTERM') - before.SIGTERM,
      );
      // What a real SIGTERM does to a listening process: its listeners run (no real signal is sent, so a
      // missing listener fails this test instead of killing the worker).
      process.emit('SIGTERM', 'SIGTERM');
    },
  });
  expect(seen).toEqual([1, 1]);
  expect(result.address.port).toBeGreaterThan(0);
  expect({ SIGINT: process.listenerCount('SIGINT'), SIGTERM: process.listenerCount('SIGTERM') }).toEqual(
    before,
  );
});
