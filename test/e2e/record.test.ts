import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { execa } from 'execa';
import { expect } from 'vitest';

import type { QueryResultEvent, SessionEvent } from '../../src/generated/session.js';
import { validateAgainstSchema } from '../../src/validation.js';
import { proxyClient, seedQueries, seedTable, tempDir } from '../integration/session/helpers.js';
import { dbTest, testerPassword } from '../setup/database.js';
import { startRecord } from '../setup/record-cli.js';

const runJs = fileURLToPath(new URL('../../bin/run.js', import.meta.url));

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
  const stoppedAt = Date.now();
  second.child.kill('SIGTERM');
  const exit = await second.child;
  // Once (full suite, 2 cores) exitCode was undefined: the process ended by a signal (execa sends SIGKILL
  // when a SIGTERM'd child is still running after forceKillAfterDelay). Say which, how long, what it printed.
  const took = Date.now() - stoppedAt;
  expect(exit.exitCode, `signal ${String(exit.signal)} after ${took} ms; output:\n${second.output()}`).toBe(
    0,
  );
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

dbTest(
  'record --json: a ready event on stderr at once, target failures as events, the result on stdout',
  async ({ db }) => {
    const dir = await tempDir('e2e-record-json');
    // The password as a query parameter (#13 item 7): used for the login, shown nowhere.
    const target = new URL(db.url.connectionString());
    target.password = '';
    target.searchParams.set('password', testerPassword());
    const child = execa(
      'node',
      [
        runJs,
        'record',
        '--json',
        '--listen',
        '127.0.0.1:0',
        '--target-url',
        target.toString(),
        '--pseudo-user',
        'pseudo_user:pseudo-pw',
        '--sessions-dir',
        dir,
      ],
      { reject: false, env: { NO_COLOR: '1' } },
    );
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setInterval(() => {
        const line = stderr.split('\n').find((text) => text.includes('"event":"ready"'));
        if (line) {
          clearInterval(timer);
          resolve(JSON.parse(line) as Record<string, unknown>);
        }
      }, 50);
      void child.then(() => reject(new Error(`record exited early: ${stderr}`)));
    });
    expect(ready).toMatchObject({
      event: 'ready',
      targetCheck: { ok: true, tls: 'plaintext (sslmode=prefer)' },
      clientTls: {
        source: 'self-signed',
        fingerprint256: expect.stringMatching(/^[0-9A-F:]{95}$/) as string,
      },
      warnings: [],
    });
    const port = (ready.address as { port: number }).port;
    const client = await proxyClient(port);
    await client.query('select 1');
    await client.end();
    await expect(proxyClient(port, 'pseudo_user', 'wrong')).rejects.toThrow('password authentication failed');
    child.kill('SIGTERM');
    const exit = await child;
    expect(exit.exitCode).toBe(0);
    const result = JSON.parse(String(exit.stdout)) as { sessions: string[]; targetCheck: unknown };
    expect(result.sessions).toHaveLength(1);
    const events = stderr
      .split('\n')
      .filter((line) => line.startsWith('{"event"'))
      .map((line) => (JSON.parse(line) as { event: string }).event);
    expect(events).toEqual(
      expect.arrayContaining(['ready', 'session-started', 'session-closed', 'login-rejected']),
    );
    for (const text of [stderr, String(exit.stdout)]) expect(text).not.toContain(testerPassword());
  },
);

dbTest('record: a target that is down is named as such at startup and to clients', async ({ db }) => {
  const dir = await tempDir('e2e-record-down');
  const down = new URL(db.url.connectionString());
  down.port = '9'; // discard port: nothing listens there
  const recorder = await startRecord(down.toString(), dir);
  const client = proxyClient(recorder.port);
  await expect(client).rejects.toThrow('the target is unreachable');
  await new Promise((resolve) => setTimeout(resolve, 200));
  recorder.child.kill('SIGTERM');
  await recorder.child;
  expect(recorder.output()).toContain('WARNING: cannot log in to the target (unreachable)');
  expect(recorder.output()).toContain('unreachable: cannot reach the target: ECONNREFUSED');
});
