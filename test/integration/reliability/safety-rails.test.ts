import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect } from 'vitest';

import { DatabaseError, UnsafeTargetError } from '../../../src/errors.js';
import { materialize } from '../../../src/services/materialize.js';
import { runReplay } from '../../../src/services/run.js';
import { dumpTables } from '../../setup/capsules.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';
import { exportAccount } from '../../setup/export-account.js';
import { manifestFrom } from '../export/helpers.js';
import { createSchema, writeApp } from '../run/helpers.js';

// SPEC §5 safety rails: export cannot write to production whatever the manifest says, sees one snapshot,
// and `run` children cannot reach the production database.

const schema = `
  create table accounts (account_id text primary key, name text not null);
  create table audit (id bigserial primary key, note text);
  insert into accounts values ('a1', 'Ann'), ('a2', 'Bo');
  -- What a careless snippet might call: a function that writes.
  create function bump() returns int language sql as $$ insert into audit (note) values ('written') returning 1 $$;
`;

function manifest(table: Record<string, unknown>, graphEdges: string[] = []) {
  return manifestFrom({
    appId: 'acct',
    adapter: 'postgres-subject-graph.v1',
    subjectKeys: ['account_id'],
    postgres: { graphEdges, tables: [{ name: 'accounts', alias: 'a', ...table }] },
  });
}

async function exportTo(db: TestDatabase, parsed: ReturnType<typeof manifest>, out: string) {
  return (await exportAccount(db, parsed, out)).result;
}

// Every place a manifest splices SQL into the export (the graph edge and the where are covered by
// test/integration/export/failures.test.ts with an INSERT … RETURNING and nextval).
const writingSnippets: Array<[string, Record<string, unknown>, string[]]> = [
  [
    'graph edge (calls a writing function)',
    {},
    [`select 'a2'::text as account_id, 'x'::text as reason where bump() = 1`],
  ],
  ['tables[].from', { from: 'accounts a cross join lateral (select bump()) b' }, []],
  ['tables[].where', { where: 'bump() = 1' }, []],
  ['tables[].rowSql', { rowSql: `to_jsonb(a) || jsonb_build_object('b', bump())` }, []],
  ['tables[].orderBy', { orderBy: 'bump()' }, []],
];

describe('export runs in a READ ONLY transaction: a writing snippet fails with 25006, the source unchanged', () => {
  dbTest.for(writingSnippets)('%s', async ([, table, edges], { db }) => {
    await db.query(schema);
    const before = await dumpTables(db, ['accounts', 'audit']);
    const dir = await mkdtemp(join(tmpdir(), 'safety-rails-'));
    const error = await exportTo(db, manifest(table, edges), join(dir, 'c.json')).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as DatabaseError).sqlState).toBe('25006');
    expect((error as Error).message).toMatch(/cannot execute INSERT in a read-only transaction/);
    expect((error as Error).message).not.toContain('\n');
    expect(await dumpTables(db, ['accounts', 'audit'])).toEqual(before);
    expect(await readdir(dir)).toEqual([]);
  });
});

dbTest('the export transaction is READ ONLY and REPEATABLE READ (as the graph sees it)', async ({ db }) => {
  await db.query(schema);
  const dir = await mkdtemp(join(tmpdir(), 'safety-rails-'));
  const out = join(dir, 'c.json');
  await exportTo(
    db,
    manifest({}, [
      `select 'a1'::text as account_id,
              'read_only=' || current_setting('transaction_read_only') || ',isolation=' ||
              current_setting('transaction_isolation') as reason`,
    ]),
    out,
  );
  const capsule = JSON.parse(await readFile(out, 'utf8'));
  expect(capsule.graph).toHaveLength(1);
  expect(capsule.graph[0].account_id).toBe('a1');
  expect([...capsule.graph[0].reasons].sort()).toEqual(['read_only=on,isolation=repeatable read', 'subject']);
});

describe('run: children cannot reach the production database', () => {
  dbTest(
    'the prod env var a command and a command probe see is the blocked URL, whatever the parent has',
    async ({ db }) => {
      await createSchema(db);
      // "Production" here is a real, reachable database: only the overwrite keeps the child out of it.
      const production = await db.sibling();
      const fixtures = fileURLToPath(new URL('../../fixtures/reliability/', import.meta.url));
      const app = await writeApp({
        manifest: {
          repoPath: fixtures,
          postgres: {
            prodDatabaseUrlEnv: 'APP_PROD_DATABASE_URL',
            replayDatabaseUrlEnv: 'APP_REPLAY_DATABASE_URL',
            tableOrder: ['users', 'notes'],
            tables: [
              { name: 'users', deletePredicate: 't.tenant_id = g.tenant_id and t.user_id = g.user_id' },
              { name: 'notes', deletePredicate: 't.tenant_id = g.tenant_id and t.user_id = g.user_id' },
            ],
          },
          commands: [
            {
              name: 'connect-prod',
              run: 'node connect-prod.js',
              env: { APP_PROD_DATABASE_URL: production.url.connectionString() },
            },
          ],
          probes: [{ name: 'probe-connect-prod', kind: 'command', command: 'node connect-prod.js' }],
        },
      });
      const result = await runReplay({
        manifest: app.manifest,
        capsule: app.capsule,
        dbUrl: db.url.connectionString(),
        env: { ...process.env, APP_PROD_DATABASE_URL: production.url.connectionString() },
      });
      const outputs = result.trace.events
        .filter((event) => event.name === 'connect-prod' || event.name === 'probe-connect-prod')
        .map((event) => (event as { stdout?: string }).stdout ?? '');
      expect(outputs).toHaveLength(2);
      for (const stdout of outputs) {
        expect(stdout).toContain('prod url: postgres://replay-env-blocked@127.0.0.1:1/blocked-by-replay-env');
        expect(stdout).toContain('production unreachable: ECONNREFUSED');
        expect(stdout).not.toContain('CONNECTED TO PRODUCTION');
      }
    },
  );
});

dbTest('a capsule exported from a database cannot be materialized back into it', async ({ db }) => {
  await db.query(schema);
  const dir = await mkdtemp(join(tmpdir(), 'safety-rails-'));
  const out = join(dir, 'c.json');
  const parsed = manifest({ deletePredicate: 't.account_id = g.account_id' });
  await exportTo(db, parsed, out);
  const before = await dumpTables(db, ['accounts', 'audit']);
  const error = await materialize({ manifest: parsed, capsulePath: out, databaseUrl: db.url }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(UnsafeTargetError);
  expect((error as Error).message).toMatch(/it is the database the capsule is exported from/);
  expect(await dumpTables(db, ['accounts', 'audit'])).toEqual(before);
});
