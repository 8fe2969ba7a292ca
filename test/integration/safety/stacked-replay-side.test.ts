import { describe, expect } from 'vitest';

import { ManifestError } from '../../../src/errors.js';
import { runSqlProbe } from '../../../src/run/probes/sql.js';
import { materialize } from '../../../src/services/materialize.js';
import { dumpTables } from '../../setup/capsules.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';
import { createSchema, writeApp } from '../run/helpers.js';

// #13 item 1 on the replay side, and item 9's "multi-statement sql probe": the sql probe and a
// deletePredicate cannot stack statements either (extended protocol); the probe says so in one line.

const stackedProbes: Array<[string, string]> = [
  ['select; commit; update', `select 1; commit; update users set name = 'pwned'`],
  ['select; update (no commit)', `select 1; update users set name = 'pwned'`],
  ['DO block', `select 1; do $$ begin update users set name = 'pwned'; end $$`],
  ['set session characteristics', `select 1; set session characteristics as transaction read write`],
  ['reset all then write', `select 1; reset all; commit; update users set name = 'pwned'`],
];

/** Runs one sql probe of a run manifest against `db`, as run does. */
async function runOneSqlProbe(db: TestDatabase, probe: Record<string, unknown>) {
  const app = await writeApp({ manifest: { probes: [{ kind: 'sql', ...probe }] } });
  return runSqlProbe(app.manifest.probes[0]!, {
    manifest: app.manifest,
    env: {},
    databaseUrl: db.url,
    graceMs: 100,
  });
}

describe('sql probe: more than one statement is refused before anything runs', () => {
  dbTest.for(stackedProbes)('%s', async ([, sql], { db }) => {
    await createSchema(db);
    await db.query(`insert into users values ('t1', 'u1', 'Ada', null)`);
    const before = await dumpTables(db, ['users']);
    const event = await runOneSqlProbe(db, { name: 'stacked', sql, expectRows: 1 });
    expect(event.success).toBe(false);
    expect(event.message).toMatch(/^probe stacked: the SQL holds more than one statement/);
    expect(event.message).not.toMatch(/TypeError|undefined/);
    expect(await dumpTables(db, ['users'])).toEqual(before);
  });

  dbTest('a single writing statement fails with 25006 (read-only probe transaction)', async ({ db }) => {
    await createSchema(db);
    await db.query(`insert into users values ('t1', 'u1', 'Ada', null)`);
    const event = await runOneSqlProbe(db, {
      name: 'w',
      sql: `update users set name = 'pwned' returning 1`,
    });
    expect(event.success).toBe(false);
    expect(event.message).toMatch(/read-only transaction/);
    expect((await db.query(`select name from users`))[0]).toEqual({ name: 'Ada' });
  });
});

describe('deletePredicate: stacked statements are refused, the replay DB unchanged', () => {
  dbTest('a predicate that closes the delete and stacks a committed update', async ({ db }) => {
    await createSchema(db);
    await db.query(`insert into users values ('t9', 'u9', 'Keep', null)`);
    const before = await dumpTables(db, ['users', 'notes']);
    const predicate = `true); commit; update users set name = 'pwned'; commit; select (1`;
    const app = await writeApp({
      manifest: {
        postgres: {
          tableOrder: ['users', 'notes'],
          tables: [
            { name: 'users', deletePredicate: predicate },
            { name: 'notes', deletePredicate: 't.tenant_id = g.tenant_id' },
          ],
        },
      },
    });
    const error = await materialize({
      manifest: app.manifest,
      capsulePath: app.capsule,
      databaseUrl: db.url,
    }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeDefined();
    expect(error instanceof ManifestError || (error as { sqlState?: string }).sqlState === '42601').toBe(
      true,
    );
    expect(await dumpTables(db, ['users', 'notes'])).toEqual(before);
  });
});
