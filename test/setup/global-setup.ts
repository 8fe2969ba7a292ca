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

let server: EmbeddedServer | undefined;

/**
 * Starts one real PostgreSQL for the whole run (or uses REPLAY_ENV_TEST_DATABASE_URL), and creates a
 * login role with a recognisable password: end-to-end tests assert it never appears in any output.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
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
  project.provide('adminDatabaseUrl', admin.connectionString());
  project.provide('testerDatabaseUrl', tester.toString());
  project.provide('testerPassword', testerPassword);
  return async () => {
    await server?.stop();
  };
}
