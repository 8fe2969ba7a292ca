import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { expect } from 'vitest';

import { tableContents, tempDir } from '../integration/session/helpers.js';
import { runCli } from '../setup/cli.js';
import { dbTest, type TestDatabase, testerPassword } from '../setup/database.js';
import { recordSeededSession, seededTwin } from '../setup/recorded-session.js';

// #13 item 3 and #14 item 8 (replay --app): replay has the materialize guard, rolls back by default,
// writes only with --commit, and finds the replay URL from the manifest.

function recordWrites(db: TestDatabase): Promise<string> {
  return recordSeededSession(db, 'safety-replay', async (client) => {
    await client.query(`delete from test_data where name = 'test1'`);
    await client.query('select count(*) from test_data');
  });
}

dbTest('replay refuses production-looking targets and the export source (exit 4)', async ({ db }) => {
  const file = await recordWrites(db);
  const u = new URL(db.url.connectionString());
  const prodNamed = `postgres://${u.username}:${u.password}@127.0.0.1:${db.url.port}/app_prod`;
  const refused = await runCli(['replay', file, '--db-url', prodNamed]);
  expect(refused.exitCode).toBe(4);
  expect(refused.stderr).toMatch(
    /^error: refusing to write to 127\.0\.0\.1:\d+\/app_prod: database "app_prod" looks like production/m,
  );
  const source = await runCli(['replay', file, '--db-url', db.url.connectionString()], {
    env: { APP_PROD_DATABASE_URL: `postgres://x@localhost:${db.url.port}/${db.name}` },
  });
  expect(source.exitCode).toBe(4);
  expect(source.stderr).toContain('it is the export source ($APP_PROD_DATABASE_URL)');
  const empty = await runCli(['replay', file, '--db-url', '']);
  expect(empty.exitCode).toBe(2);
  expect(empty.stderr).toContain('error: --db-url is empty');
  for (const text of [refused.stderr, source.stderr, empty.stderr])
    expect(text).not.toContain(testerPassword());
});

dbTest(
  'replay rolls back by default; --commit writes; --allow-unsafe-target says so in one line',
  async ({ db }) => {
    const file = await recordWrites(db);
    const { twin, before } = await seededTwin(db);
    const rolledBack = await runCli(['replay', file, '--db-url', twin.url.connectionString()]);
    expect(rolledBack.exitCode).toBe(0);
    expect(await tableContents(twin)).toEqual(before);

    const committed = await runCli(['replay', file, '--db-url', twin.url.connectionString(), '--commit']);
    expect(committed.exitCode).toBe(0);
    expect((await tableContents(twin)).length).toBe(before.length - 1);

    await twin.query(`insert into test_data (name, value) values ('test1', 150)`);
    const overridden = await runCli(
      ['replay', file, '--db-url', twin.url.connectionString(), '--allow-unsafe-target'],
      { env: { APP_PROD_DATABASE_URL: `postgres://x@127.1:${twin.url.port}/${twin.name}` } },
    );
    expect(overridden.exitCode).toBe(0);
    const warnings = overridden.stderr.split('\n').filter((line) => line.startsWith('warning:'));
    expect(warnings).toEqual([
      expect.stringMatching(
        /^warning: --allow-unsafe-target: writing to 127\.0\.0\.1:\d+\/t_\w+ although it is the export source/,
      ),
    ]);
  },
);

dbTest(
  'replay --app takes the replay URL from the manifest (env var, then localDatabaseUrl)',
  async ({ db }) => {
    const file = await recordWrites(db);
    const { twin } = await seededTwin(db);
    const dir = await tempDir('safety-replay-app');
    const manifest = join(dir, 'app.json');
    await writeFile(
      manifest,
      JSON.stringify({
        appId: 'replayapp',
        adapter: 'postgres-subject-graph.v1',
        subjectKeys: ['id'],
        localDatabaseUrl: twin.url.connectionString(),
        postgres: { replayDatabaseUrlEnv: 'MY_REPLAY_URL', tables: [{ name: 'test_data' }] },
      }),
    );
    const viaFallback = await runCli(['replay', file, '--app', manifest, '--json']);
    expect(viaFallback.exitCode).toBe(0);
    // The session reads test_data, which only the twin has: a wrong database would be a mismatch (12).
    expect((JSON.parse(viaFallback.stdout) as { ok: boolean }).ok).toBe(true);
    const viaEnv = await runCli(['replay', file, '--app', manifest], {
      env: { MY_REPLAY_URL: 'postgres://u@127.0.0.1:1/app_production' },
    });
    expect(viaEnv.exitCode).toBe(4);
    expect(viaEnv.stderr).toContain('app_production');
  },
);
