import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect } from 'vitest';

import { UnsafeTargetError } from '../../../src/errors.js';
import { DatabaseUrl } from '../../../src/postgres/database-url.js';
import { materialize } from '../../../src/services/materialize.js';
import { dumpTables } from '../../setup/capsules.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';
import { exportAccount } from '../../setup/export-account.js';
import { manifestFrom } from '../export/helpers.js';

// #13 item 2: "never load into the export source" holds under other names for the same server, and
// is decided by what the server says it is (capsule header source.server), not by URL text.

const schema = `
  create table accounts (account_id text primary key, name text not null);
  insert into accounts values ('a1', 'Ann'), ('a2', 'Bo');
`;
const parsed = manifestFrom({
  appId: 'acct',
  adapter: 'postgres-subject-graph.v1',
  subjectKeys: ['account_id'],
  postgres: { tables: [{ name: 'accounts', alias: 'a', deletePredicate: 't.account_id = g.account_id' }] },
});

async function exported(db: TestDatabase): Promise<string> {
  await db.query(schema);
  return (await exportAccount(db, parsed)).out;
}

async function refused(capsulePath: string, url: DatabaseUrl, env: NodeJS.ProcessEnv = {}): Promise<Error> {
  const error = await materialize({ manifest: parsed, capsulePath, databaseUrl: url, env }).then(
    () => undefined,
    (caught: unknown) => caught as Error,
  );
  expect(error).toBeInstanceOf(UnsafeTargetError);
  return error!;
}

/** The same database, spelled another way (the test server listens on 127.0.0.1). */
function otherNames(db: TestDatabase): Array<[string, string]> {
  const u = new URL(db.url.connectionString());
  const base = `postgres://${u.username}:${u.password}@`;
  const tail = `:${db.url.port}/${db.name}`;
  return [
    ['localhost', `${base}localhost${tail}`],
    ['127.1', `${base}127.1${tail}`],
    ['localhost. (trailing dot)', `${base}localhost.${tail}`],
    [
      '?host=a&host=127.0.0.1 (driver takes the last)',
      `${base}elsewhere.invalid${tail}?host=nope.invalid&host=127.0.0.1`,
    ],
  ];
}

describe('materialize refuses the export source by any name', () => {
  dbTest('the capsule records what the server says it is', async ({ db }) => {
    const capsule = JSON.parse(await readFile(await exported(db), 'utf8')) as {
      source: { database: string; server: Record<string, unknown> };
    };
    const [row] = await db.query<{ oid: string }>(
      `select oid::text from pg_database where datname = current_database()`,
    );
    expect(capsule.source.server).toMatchObject({ databaseOid: row!.oid, databaseName: db.name });
    expect(typeof capsule.source.server.startedAt).toBe('string');
    // Either readable (superuser/pg_monitor) or explicitly null: never guessed.
    expect(['string', 'object']).toContain(typeof capsule.source.server.systemIdentifier);
  });

  dbTest(
    'localhost, 127.1, a trailing dot, a repeated ?host= and PGHOST/PGPORT all refused',
    async ({ db }) => {
      const capsule = await exported(db);
      const before = await dumpTables(db, ['accounts']);
      for (const [, text] of otherNames(db)) {
        const error = await refused(capsule, DatabaseUrl.parse(text));
        expect(error.message).toMatch(/it is the database the capsule is exported from/);
      }
      const saved = { PGHOST: process.env.PGHOST, PGPORT: process.env.PGPORT };
      process.env.PGHOST = 'localhost';
      process.env.PGPORT = String(db.url.port);
      try {
        const u = new URL(db.url.connectionString());
        // No host, no port in the URL: the driver takes them from PGHOST/PGPORT.
        const text = `postgres:///${db.name}?user=${u.username}&password=${u.password}`;
        await refused(capsule, DatabaseUrl.parse(text));
      } finally {
        for (const [key, value] of Object.entries(saved)) {
          if (value === undefined) delete process.env[key];
          else process.env[key] = value;
        }
      }
      expect(await dumpTables(db, ['accounts'])).toEqual(before);
    },
  );

  dbTest(
    'the server identity decides even when the recorded host text names another machine',
    async ({ db }) => {
      const path = await exported(db);
      const text = await readFile(path, 'utf8');
      const recorded = JSON.stringify(`${db.url.host}:${db.url.port}/${db.name}`);
      expect(text).toContain(recorded);
      // Pretend the export went through another name entirely (a DNS alias, a pooler, a tunnel). Only
      // the header changes; the rows and their integrity stay as written.
      await writeFile(path, text.replace(recorded, JSON.stringify('db-alias.corp.invalid:6432/x')));
      const error = await refused(path, db.url);
      expect(error.message).toMatch(/same (system identifier|server start time)/);
    },
  );

  dbTest('a sibling database on the same server is not the source: allowed', async ({ db }) => {
    const capsule = await exported(db);
    const replay = await db.sibling();
    await replay.query(schema.replace(/insert.*;/, ''));
    const result = await materialize({
      manifest: parsed,
      capsulePath: capsule,
      databaseUrl: replay.url,
      env: {},
    });
    expect(result.loaded).toEqual(result.rowCounts);
  });
});

describe('doctor judges its target through the same module (#15 item 4)', () => {
  const manifestJson = {
    appId: 'acct',
    adapter: 'postgres-subject-graph.v1',
    subjectKeys: ['account_id'],
    postgres: { tables: [{ name: 'accounts', alias: 'a', deletePredicate: 't.account_id = g.account_id' }] },
  };
  async function doctorOn(capsule: string, url: DatabaseUrl) {
    const app = join(await mkdtemp(join(tmpdir(), 'target-doc-')), 'app.json');
    await writeFile(app, JSON.stringify(manifestJson));
    const { runDoctor } = await import('../../../src/services/doctor.js');
    return runDoctor({ app, capsule, dbUrl: url.connectionString(), env: {} });
  }

  dbTest('the export source under another name fails "server identity"; a sibling passes', async ({ db }) => {
    const path = await exported(db);
    const text = await readFile(path, 'utf8');
    const recorded = JSON.stringify(`${db.url.host}:${db.url.port}/${db.name}`);
    await writeFile(path, text.replace(recorded, JSON.stringify('db-alias.corp.invalid:6432/x')));
    const source = await doctorOn(path, db.url);
    const identity = source.checks.find((check) => check.id === 'db.server-identity');
    expect(identity?.status).toBe('fail');
    expect(identity?.detail).toMatch(/it is the database the capsule is exported from \(same /);
    // Nothing more is checked on a database replays refuse.
    expect(source.checks.some((check) => check.id.startsWith('db.table.'))).toBe(false);
    expect(source.ok).toBe(false);

    const replay = await db.sibling();
    await replay.query(schema.replace(/insert.*;/, ''));
    const sibling = await doctorOn(path, replay.url);
    const passed = sibling.checks.find((check) => check.id === 'db.server-identity');
    expect(passed?.status).toBe('pass');
    expect(passed?.detail).toContain(`database ${replay.name} (oid `);
    expect(passed?.detail).toMatch(/not the capsule's export source|cannot tell/);
  });
});
