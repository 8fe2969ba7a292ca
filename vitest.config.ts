import { defineConfig } from 'vitest/config';

// Three projects: unit tests live beside the code (pure, fast, no database); integration and e2e tests
// live under test/ and get a real PostgreSQL from test/setup/global-setup.ts (embedded, or
// REPLAY_ENV_TEST_DATABASE_URL), one server shared by both projects.
const withDatabase = ['test/setup/global-setup.ts'];

export default defineConfig({
  test: {
    reporters: ['default', './test/setup/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['src/**/*.test.ts', 'test/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: { name: 'integration', include: ['test/integration/**/*.test.ts'], globalSetup: withDatabase },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 180_000,
          globalSetup: withDatabase,
        },
      },
    ],
  },
});
