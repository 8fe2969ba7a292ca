import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { execa, type ResultPromise } from 'execa';
import { expect } from 'vitest';

import type { QueryResultEvent, SessionEvent } from '../../src/generated/session.js';
import { validateAgainstSchema } from '../../src/validation.js';
import { proxyClient, seedQueries, seedTable, tempDir } from '../integration/session/helpers.js';
import { dbTest, testerPassword } from '../setup/database.js';

const runJs = fileURLToPath(new URL('../../bin/run.js', import.meta.url));

/** Starts the built CLI's `record` and resolves once it prints its listening address. */
async function startRecord(
  targetUrl: string,
  dir: string,
): Promise<{ child: ResultPromise; port: number; output: () => string }> {
  const child = execa(
    'node',
    [
      runJs,
      'record',
      '--listen',
      '127.0.0.1:0',
      '--target-url',
      targetUrl,
      '--pseudo-user',
      'pseudo_user:pseudo-pw',
      '--sessions-dir',
      dir,
    ],
    {
      reject: false,
      env: { NO_COLOR: '1' },
      all: true,
    },
  );
  let output = '';
  child.all!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /Listening on 127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearInterval(timer);
        resolve(Number(match[1]));
      }
    }, 50);
    void child.then(() => {
      clearInterval(timer);
      reject(new Error(`record exited early:\n${output}`));
    });
  });
  return { child, port, output: () => output };
}

dbTest('record: the console shows queries and tables; kill -9 keeps every answered query', async ({ db }) => {
  await db.query(seedTable);
  const dir = await tempDir('e2e-record');
  const first = await startRecord(db.url.connectionString(), dir);
  const client = await proxyClient(first.port);
  for (const sql of seedQueries.slice(0, 3)) await client.query(sql);
  await client.query('select $1::int + 1 as next', [41]);
  first.child.kill('SIGKILL');
  await first.child;
  const console = first.output();
  expect(console).toContain('Pseudo User: pseudo_user');
  expect(console).toContain('👤 Pseudo user attempting connection: pseudo_user');
  expect(console).toContain('📝 Query #1 @');
  expect(console).toContain('│ 1  │ test1 │ 150   │ 2025-10-07 22:42:12.977496 │');
  expect(console).toContain('✓ UPDATE 1');
  expect(console).toMatch(/postgres:\/\/replay_tester:\*\*\*@127\.0\.0\.1:\d+\//);
  const left = await readdir(dir);
  expect(left.filter((name) => name.endsWith('.json.journal'))).toHaveLength(1);

  // A new proxy finalizes the leftover journal at startup.
  const second = await startRecord(db.url.connectionString(), dir);
  second.child.kill('SIGTERM');
  const exit = await second.child;
  expect(exit.exitCode).toBe(0);
  expect(second.output()).toContain('Recovered a session');
  const files = (await readdir(dir)).filter((name) => name.endsWith('.json'));
  expect(files).toHaveLength(1);
  const text = await readFile(join(dir, files[0]!), 'utf8');
  const events = JSON.parse(text) as SessionEvent[];
  expect(validateAgainstSchema('session', events)).toEqual([]);
  const results = events.filter((event): event is QueryResultEvent => event.type === 'query_result');
  expect(results.map((result) => result.data.command_tag)).toEqual([
    'SELECT 3',
    'INSERT 0 1',
    'UPDATE 1',
    'SELECT 1',
  ]);
  expect(results[3]!.data.rows).toEqual([['42']]);
  for (const output of [console, second.output(), text]) expect(output).not.toContain(testerPassword());
  client.end().catch(() => {});
});
