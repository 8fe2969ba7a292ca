import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect } from 'vitest';

import { DatabaseError } from '../../../src/errors.js';
import { DatabaseUrl } from '../../../src/postgres/database-url.js';
import { exportCapsule } from '../../../src/services/export.js';
import { dbTest } from '../../setup/database.js';
import { manifestFrom } from './helpers.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'export-failures-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const schema = `
  create table accounts (account_id text primary key, name text not null);
  create table events (id bigint primary key, account_id text not null, kind text not null);
  create table audit (id bigserial primary key, note text);
  insert into accounts values ('a1', 'Ann'), ('a2', 'Bo');
  insert into events select i, 'a1', 'k' || i from generate_series(1, 5000) i;
`;

function manifest(overrides: { graphEdges?: string[]; tables?: Array<Record<string, unknown>> } = {}) {
  return manifestFrom({
    appId: 'acct',
    adapter: 'postgres-subject-graph.v1',
    subjectKeys: ['account_id'],
    postgres: {
      graphEdges: overrides.graphEdges ?? [],
      tables: overrides.tables ?? [
        { name: 'accounts', alias: 'a', where: 'a.account_id in (select account_id from graph_keys)' },
        {
          name: 'events',
          alias: 'e',
          where: 'e.account_id in (select account_id from graph_keys)',
          orderBy: 'e.id',
        },
      ],
    },
  });
}

async function exportFails(
  db: { url: DatabaseUrl },
  parsed: ReturnType<typeof manifest>,
  url: DatabaseUrl = db.url,
): Promise<DatabaseError> {
  const error = await exportCapsule({
    manifest: parsed,
    subject: { account_id: 'a1' },
    databaseUrl: url,
    out: join(dir, 'sub', 'capsule.json'),
    sinceDays: 180,
    redaction: 'safe',
  }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DatabaseError);
  // Nothing half-written: neither the capsule nor its temporary file.
  const left = await readdir(join(dir, 'sub')).catch(() => []);
  expect(left).toEqual([]);
  return error as DatabaseError;
}

describe('export failures leave nothing behind and say what failed', () => {
  dbTest('a graph edge that writes fails with 25006 and the database is unchanged', async ({ db }) => {
    await db.query(schema);
    const error = await exportFails(
      db,
      manifest({
        graphEdges: [
          `insert into audit (note) select 'pwned' from params returning 'a2'::text as account_id, 'evil'::text as reason`,
        ],
      }),
    );
    expect(error.sqlState).toBe('25006');
    expect(error.message).toMatch(
      /^export: graph query \(.*\): cannot execute \w+ in a read-only transaction/,
    );
    expect(error.hint).toBe('the statement tried to write inside a read-only transaction');
    expect(await db.query('select count(*)::int as n from audit')).toEqual([{ n: 0 }]);
  });

  dbTest('a table query that calls a writing function fails with 25006', async ({ db }) => {
    await db.query(schema);
    await db.query(`create sequence s`);
    const error = await exportFails(
      db,
      manifest({
        tables: [{ name: 'accounts', alias: 'a', where: `nextval('s') > 0` }],
      }),
    );
    expect(error.sqlState).toBe('25006');
    expect(error.message).toContain('export: table accounts');
    expect(await db.query(`select last_value::int as v, is_called from s`)).toEqual([
      { v: 1, is_called: false },
    ]);
  });

  dbTest('a table missing from the database fails with 42P01 and the failing snippet', async ({ db }) => {
    await db.query(schema);
    const error = await exportFails(
      db,
      manifest({
        tables: [
          { name: 'accounts', alias: 'a' },
          { name: 'ghosts', alias: 'g' },
        ],
      }),
    );
    expect(error.sqlState).toBe('42P01');
    expect(error.message).toContain('relation "ghosts" does not exist');
    expect(error.message).toContain('[tables[ghosts].from]');
  });

  dbTest('a where that errors mid-stream (after rows were written) leaves no file', async ({ db }) => {
    await db.query(schema);
    const error = await exportFails(
      db,
      manifest({
        tables: [
          { name: 'accounts', alias: 'a' },
          // Fails at row 4000 of 5000: the first table and part of this one were already streamed.
          { name: 'events', alias: 'e', where: 'e.id / (4000 - e.id) >= -1000000', orderBy: 'e.id' },
        ],
      }),
    );
    expect(error.sqlState).toBe('22012');
    expect(error.message).toContain('export: table events');
  });

  dbTest('a graph edge with a typo points at the edge', async ({ db }) => {
    await db.query(schema);
    const error = await exportFails(
      db,
      manifest({ graphEdges: ['select account_id, reason from accounts, params seed wher 1 = 1'] }),
    );
    expect(error.sqlState).toBe('42601');
    expect(error.message).toContain('[graphEdges[0]]');
  });

  dbTest('an unreachable database is one line naming host and port, not the password', async ({ db }) => {
    const url = DatabaseUrl.parse('postgres://someone:not-the-password@127.0.0.1:1/nowhere');
    const error = await exportFails(db, manifest(), url);
    expect(error.code).toBe('database_unreachable');
    expect(error.message).toBe(
      'export: cannot connect (127.0.0.1:1/nowhere): connection refused (is Postgres running and listening there?)',
    );
  });
});
