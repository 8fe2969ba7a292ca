import { expect } from 'vitest';

import { connect } from '../../../src/postgres/connect.js';
import { DatabaseUrl } from '../../../src/postgres/database-url.js';
import { dbTest, testerPassword } from '../../setup/database.js';

dbTest('each test gets a fresh database owned by the password-protected test role', async ({ db }) => {
  expect(db.url.password).toBe(testerPassword());
  expect(String(db.url)).not.toContain(testerPassword());
  expect(JSON.stringify({ url: db.url })).not.toContain(testerPassword());
  const [row] = await db.query<{ db: string; usr: string }>(
    'select current_database() as db, current_user as usr',
  );
  expect(row).toEqual({ db: db.name, usr: 'replay_tester' });
  const tables = await db.query('select 1 from pg_tables where schemaname = $1', ['public']);
  expect(tables).toHaveLength(0);
});

dbTest('connection failures become one-line errors without the password', async ({ db }) => {
  const wrong = DatabaseUrl.parse(db.url.connectionString().replace(testerPassword(), 'not-the-password'));
  const error = (await connect(wrong, { action: 'replay database' }).catch((e: unknown) => e)) as Error & {
    code: string;
  };
  expect(error.code).toBe('database_auth_failed');
  expect(error.message).toMatch(
    /^replay database \(127\.0\.0\.1:\d+\/t_\w+\): password authentication failed/,
  );
  expect(error.message).not.toContain('not-the-password');

  const refused = DatabaseUrl.parse('postgres://u:secret-pw@127.0.0.1:1/x');
  const refusedError = (await connect(refused).catch((e: unknown) => e)) as Error & { code: string };
  expect(refusedError.code).toBe('database_unreachable');
  expect(refusedError.message).toBe(
    'connect: cannot connect (127.0.0.1:1/x): connection refused (is Postgres running and listening there?)',
  );
});
