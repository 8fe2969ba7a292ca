import { expect } from 'vitest';

import type { ReplaySessionResult } from '../../src/services/replay.js';
import { seedQueries, tableContents } from '../integration/session/helpers.js';
import { parseJsonOutput, runCli } from '../setup/cli.js';
import { dbTest, type TestDatabase, testerPassword } from '../setup/database.js';
import { recordSeededSession, seededTwin } from '../setup/recorded-session.js';

function recordSession(db: TestDatabase): Promise<string> {
  return recordSeededSession(db, 'e2e-replay', async (client) => {
    for (const sql of seedQueries) await client.query(sql);
    await client.query('select name from test_data where value > $1 order by id', [100]);
    await client.query('select * from missing_table').catch(() => {});
  });
}

dbTest(
  'replay: identical database → all matched, exit 0; changed value → mismatch shown, exit 12',
  async ({ db }) => {
    const file = await recordSession(db);
    const { twin, before } = await seededTwin(db);

    const same = await runCli(['replay', file, '--db-url', twin.url.connectionString(), '--rollback']);
    expect(same.exitCode).toBe(0);
    expect(same.stdout).toContain('Session Replay Tool');
    expect(same.stdout).toContain('✓ Results match recorded data (3 rows)');
    expect(same.stdout).toMatch(/Queries executed: 7\nErrors: 1\nResults matched: 7\nResults mismatched: 0/);
    expect(same.stdout).toContain('✅ Session replay completed successfully!');
    expect(await tableContents(twin)).toEqual(before);

    await twin.query(`update test_data set value = 150 where name = 'test2'`);
    // Sequences are not transactional: the rolled-back replay above still used id 4, so ids are ignored now.
    const json = await runCli([
      'replay',
      file,
      '--db-url',
      twin.url.connectionString(),
      '--rollback',
      '--json',
      '--unordered',
      '--ignore-columns',
      'id',
    ]);
    expect(json.exitCode).toBe(12);
    const result = parseJsonOutput<ReplaySessionResult>(json.stdout);
    expect(result).toMatchObject({ ok: false, mismatched: 1, newErrors: 0, queriesExecuted: 7 });
    expect(result.queries[0]).toMatchObject({ verdict: 'mismatched' });
    expect(result.queries[0]!.diff).toContain('"test2","150"');

    const human = await runCli([
      'replay',
      file,
      '--db-url',
      twin.url.connectionString(),
      '--rollback',
      '--unordered',
      '--ignore-columns',
      'id',
    ]);
    expect(human.exitCode).toBe(12);
    expect(human.stdout).toContain('✗ Results differ from the recording:');
    expect(human.stdout).toContain('Results mismatched: 1');

    for (const output of [same, json, human]) {
      expect(output.stdout + output.stderr).not.toContain(testerPassword());
    }
  },
);

dbTest('replay: bad input fails with one line and a usage exit code', async ({ db }) => {
  for (const [args, message] of [
    [
      ['replay', 'nope.json', '--db-url', db.url.connectionString()],
      'cannot read session nope.json: no such file',
    ],
    [['replay', 'package.json', '--db-url', db.url.connectionString()], 'package.json is not a session file'],
    [
      ['replay', 'x.json', '--db-url', db.url.connectionString(), '--speed', '0'],
      '--speed must be a positive number',
    ],
  ] as const) {
    const result = await runCli([...args]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`error: ${message}`);
    expect(result.stderr).not.toContain(testerPassword());
  }
});

dbTest.for([
  ['SIGINT', [], 130, 'after 1 queries; the replay was rolled back', 0],
  ['SIGTERM', ['--commit'], 143, 'after 1 queries; what they committed is kept (--commit)', 1],
  // Killed outright, the CLI cancels nothing: the server notices the client is gone and ends the backend.
  ['SIGKILL', [], undefined, undefined, 0],
] as const)(
  'replay: %s mid-statement ends it; the CLI exits with the signal code and one line',
  async ([signal, extra, exitCode, said, kept], { db, skip }) => {
    if (signal === 'SIGKILL') {
      const version = await db.query<{ v: number }>(`select current_setting('server_version_num')::int as v`);
      if (version[0]!.v < 140000) skip('PostgreSQL < 14 has no client_connection_check_interval');
    }
    const { execa } = await import('execa');
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { repoRoot, runJs } = await import('../setup/cli.js');
    await db.query('create table replayed (id int)');
    const at = '2025-10-07T21:30:15Z';
    const file = join(await mkdtemp(join(tmpdir(), 'replay-signal-')), 'session.json');
    await writeFile(
      file,
      JSON.stringify(
        [
          [1, 'insert into replayed values (1)', [], 'INSERT 0 1'],
          [2, 'select pg_sleep(60)', ['pg_sleep'], 'SELECT 1'],
        ].flatMap(([n, sql, columns, tag]) => [
          { type: 'query', timestamp: at, data: { query_number: n, sql } },
          {
            type: 'query_result',
            timestamp: at,
            data: {
              query_number: n,
              columns,
              rows: (columns as string[]).length ? [['']] : [],
              row_count: (columns as string[]).length,
              command_tag: tag,
              error: null,
            },
          },
        ]),
      ),
    );
    const child = execa('node', [runJs, 'replay', file, '--db-url', db.url.connectionString(), ...extra], {
      reject: false,
      cwd: repoRoot,
    });
    const sleeping = `select pid from pg_stat_activity where datname = current_database()
      and application_name = 'replay-env replay' and query = 'select pg_sleep(60)' and state = 'active'`;
    for (let i = 0; i < 600 && (await db.query(sleeping)).length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await db.query(sleeping)).toHaveLength(1);
    const signalled = performance.now();
    child.kill(signal);
    const ended = await child;
    expect(performance.now() - signalled).toBeLessThan(10_000);
    expect(ended.exitCode).toBe(exitCode);
    expect(String(ended.stderr).trim()).toBe(said ? `error: interrupted by ${signal} ${said}` : '');
    const left = `select 1 from pg_stat_activity where datname = current_database()
      and application_name = 'replay-env replay'`;
    // Within 10 s: a killed client is noticed at the next client_connection_check_interval (1 s).
    for (let i = 0; i < 500 && (await db.query(left)).length > 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await db.query(left)).toEqual([]);
    expect(await db.query('select count(*)::int as n from replayed')).toEqual([{ n: kept }]);
  },
);
