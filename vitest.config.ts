import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';

import { defineConfig } from 'vitest/config';

// Three projects: unit tests live beside the code (pure, fast, no database); integration and e2e tests
// live under test/ and get a real PostgreSQL from test/setup/global-setup.ts (embedded, or
// REPLAY_ENV_TEST_DATABASE_URL), one server shared by both projects.
const withDatabase = ['test/setup/global-setup.ts'];

// Vitest's default is one worker per core minus one: a single file at a time on a 2-core runner, while
// integration and e2e files spend most of their time waiting on PostgreSQL and on the CLI processes they
// start. Three files at a time keep both cores busy there; every test has its own database and temp
// folder, and none may observe server-wide state (filter pg_stat_activity by datname). The unit files
// (CPU only) run first, on their own, one worker per core.
const cores = availableParallelism();

// Every temp folder the tests and the CLIs they start make goes under one folder of this run (workers
// inherit TMPDIR), removed when vitest exits: hundreds of test folders no longer pile up in /tmp.
if (!process.env['REPLAY_ENV_TEST_TMPDIR']) {
  const runTmp = mkdtempSync(join(tmpdir(), 'replay-env-tests-'));
  process.env['REPLAY_ENV_TEST_TMPDIR'] = runTmp;
  process.env['TMPDIR'] = runTmp;
  process.on('exit', () => rmSync(runTmp, { recursive: true, force: true }));
}
const withDatabaseWorkers = { maxWorkers: Math.max(3, cores), sequence: { groupOrder: 1 } };

export default defineConfig({
  test: {
    reporters: ['default', './test/setup/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        // Pure modules with no shared state to reset: one worker runs many files (no fresh process each).
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'test/unit/**/*.test.ts'],
          isolate: false,
          maxWorkers: cores,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: withDatabase,
          ...withDatabaseWorkers,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 180_000,
          globalSetup: withDatabase,
          ...withDatabaseWorkers,
        },
      },
    ],
  },
});
