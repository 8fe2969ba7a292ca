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
