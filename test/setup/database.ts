import { randomBytes } from 'node:crypto';

import pg from 'pg';
import { inject, test as base } from 'vitest';

import { DatabaseUrl } from '../../src/postgres/database-url.js';

export interface TestDatabase {
  name: string;
  /** URL of this database for the password-protected test role (owner of the database). */
  url: DatabaseUrl;
  /** Runs SQL on this database as its owner; returns the rows. */
  query<T extends pg.QueryResultRow = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<T[]>;
  /** A second database on the same server, also dropped afterwards (e.g. a replay target). */
  sibling(): Promise<TestDatabase>;
  drop(): Promise<void>;
}

export function testerPassword(): string {
  return inject('testerPassword');
}

/** Creates a fresh, empty database owned by the test role. Call `drop()` when done (the fixture does). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const admin = DatabaseUrl.parse(inject('adminDatabaseUrl'));
  const tester = DatabaseUrl.parse(inject('testerDatabaseUrl'));
  const name = `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await adminQuery(admin, `create database ${name} owner replay_tester`);
  const url = tester.withDatabase(name);
  const siblings: TestDatabase[] = [];
  const database: TestDatabase = {
    name,
    url,
    async query(sql, values) {
      const client = new pg.Client({ connectionString: url.connectionString() });
      await client.connect();
      try {
        return (await client.query(sql, values)).rows;
      } finally {
        await client.end();
      }
    },
    async sibling() {
      const other = await createTestDatabase();
      siblings.push(other);
      return other;
    },
    async drop() {
      await Promise.all(siblings.map((other) => other.drop()));
      await adminQuery(admin, `drop database if exists ${name} with (force)`);
    },
  };
  return database;
}

async function adminQuery(admin: DatabaseUrl, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: admin.connectionString() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** `test` with a `db` fixture: a fresh database per test, dropped afterwards. */
export const dbTest = base.extend<{ db: TestDatabase }>({
  // eslint-disable-next-line no-empty-pattern
  db: async ({}, use) => {
    const database = await createTestDatabase();
    try {
      await use(database);
    } finally {
      await database.drop();
    }
  },
});

/** Whether the connecting role is a superuser, and whether it owns `table` (one row per such table). */
export async function ownership(
  db: TestDatabase,
  table: string,
): Promise<{ super: boolean; owns: boolean }[]> {
  return db.query<{ super: boolean; owns: boolean }>(
    `select rolsuper as super, pg_get_userbyid(relowner) = current_user as owns
       from pg_roles, pg_class where rolname = current_user and relname = $1`,
    [table],
  );
}
