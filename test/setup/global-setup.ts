import { randomBytes } from 'node:crypto';

import pg from 'pg';
import type { TestProject } from 'vitest/node';

import { DatabaseUrl } from '../../src/postgres/database-url.js';
import { type EmbeddedServer, startEmbeddedPostgres } from '../../src/postgres/embedded.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL used to create and drop per-test databases. */
    adminDatabaseUrl: string;
    /** URL template (database `postgres`) of the unprivileged test role whose password tests hunt for. */
    testerDatabaseUrl: string;
    testerPassword: string;
  }
}

interface SharedDatabase {
  admin: string;
  tester: string;
  testerPassword: string;
  /** Projects using it; the last one to finish stops the server. */
  users: number;
  stop(): Promise<void>;
}

// The integration and e2e projects each list this file; vitest runs it once per project, in one process.
// Both get the same server (and role: a second setup would replace the role's password under the other
// project's running tests), kept on globalThis because each project loads this module separately.
const sharedKey = Symbol.for('replay-env.test-database');
const shared = globalThis as { [sharedKey]?: Promise<SharedDatabase> };

/**
 * Starts one real PostgreSQL for the whole run (or uses REPLAY_ENV_TEST_DATABASE_URL), and creates a
 * login role with a recognisable password: end-to-end tests assert it never appears in any output.
 * Only the integration and e2e projects use it: the unit project starts no database.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const database = await (shared[sharedKey] ??= startDatabase());
  database.users++;
  project.provide('adminDatabaseUrl', database.admin);
  project.provide('testerDatabaseUrl', database.tester);
  project.provide('testerPassword', database.testerPassword);
  return async () => {
    if (--database.users > 0) return;
    delete shared[sharedKey];
    await database.stop();
  };
}

async function startDatabase(): Promise<SharedDatabase> {
  let server: EmbeddedServer | undefined;
  let admin: DatabaseUrl;
  const external = process.env.REPLAY_ENV_TEST_DATABASE_URL;
  if (external) {
    admin = DatabaseUrl.parse(external, 'REPLAY_ENV_TEST_DATABASE_URL');
  } else {
    server = await startEmbeddedPostgres({
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' },
    });
    admin = server.adminUrl;
  }
  const testerPassword = `tst-${randomBytes(9).toString('hex')}-pw`;
  const client = new pg.Client({ connectionString: admin.connectionString() });
  await client.connect();
  try {
    await client.query(`drop role if exists replay_tester`).catch(() => {});
    await client.query(`create role replay_tester login createdb password '${testerPassword}'`);
  } finally {
    await client.end();
  }
  const tester = new URL(admin.connectionString());
  tester.username = 'replay_tester';
  tester.password = testerPassword;
  return {
    admin: admin.connectionString(),
    tester: tester.toString(),
    testerPassword,
    users: 0,
    stop: async () => {
      await server?.stop();
    },
  };
}
