import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import postgres from 'postgres';
import { describe, expect } from 'vitest';

import type { QueryEvent, QueryResultEvent, SessionEvent } from '../../../src/generated/session.js';
import { type RecordingProxy, startRecordingProxy } from '../../../src/services/record.js';
import { replaySession } from '../../../src/services/replay.js';
import { validateAgainstSchema } from '../../../src/validation.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';
import { readSession, seedQueries, seedTable, tempDir } from './helpers.js';

const run = promisify(execFile);
const psql = ['/usr/bin/psql', '/usr/local/bin/psql'].find((path) => existsSync(path));

/**
 * The proxy must work for the drivers real apps use, not only node-postgres: postgres.js (its own
 * extended-protocol implementation, pipelining, named prepared statements) and psql (libpq, simple
 * protocol). Both log in as a pseudo user while the target uses SCRAM.
 */
async function record(db: TestDatabase, work: (port: number) => Promise<void>): Promise<SessionEvent[]> {
  await db.query(seedTable);
  const proxy: RecordingProxy = await startRecordingProxy({
    listen: '127.0.0.1:0',
    target: db.url,
    pseudoUsers: [{ name: 'app_user', password: 'app-pw' }],
    sessionsDir: await tempDir('clients'),
  });
  try {
    await work(proxy.address.port);
  } finally {
    await proxy.close();
  }
  const [file] = proxy.sessionFiles();
  const events = await readSession(file!);
  expect(validateAgainstSchema('session', events)).toEqual([]);
  const replay = await replaySession({
    file: file!,
    databaseUrl: db.url,
    rollback: true,
    ignoreColumns: ['id'],
  });
  expect(replay.ok).toBe(true);
  return events;
}

const results = (events: SessionEvent[]) =>
  events
    .filter((event): event is QueryResultEvent => event.type === 'query_result')
    .map((event) => ({
      tag: event.data.command_tag,
      rows: event.data.rows,
      error: event.data.error?.code ?? null,
    }));
const queries = (events: SessionEvent[]) =>
  events.filter((event): event is QueryEvent => event.type === 'query').map((event) => event.data);

describe('other clients through the recording proxy', () => {
  dbTest(
    'postgres.js: simple, parameterized and failing queries are relayed and recorded',
    async ({ db }) => {
      const events = await record(db, async (port) => {
        const sql = postgres({
          host: '127.0.0.1',
          port,
          user: 'app_user',
          password: 'app-pw',
          database: 'x',
          max: 1,
        });
        try {
          for (const text of seedQueries) await sql.unsafe(text);
          const rows = await sql`select name, value from test_data where value >= ${200} order by id`;
          expect(rows.map((row) => [row.name, row.value])).toEqual([
            ['test2', 200],
            ['test3', 300],
          ]);
          await expect(sql`select * from missing_table`).rejects.toMatchObject({ code: '42P01' });
        } finally {
          await sql.end();
        }
      });
      const recorded = results(events);
      expect(recorded.map((result) => result.tag)).toEqual(
        expect.arrayContaining(['SELECT 3', 'INSERT 0 1', 'UPDATE 1', 'SELECT 1', 'DELETE 1', 'SELECT 2']),
      );
      expect(recorded.some((result) => result.error === '42P01')).toBe(true);
      const parameterized = queries(events).find((query) => query.sql.includes('value >= $1'));
      expect(parameterized?.params).toEqual(['200']);
      expect(recorded.find((result) => result.tag === 'SELECT 2')?.rows).toEqual([
        ['test2', '200'],
        ['test3', '300'],
      ]);
    },
  );

  dbTest.runIf(psql !== undefined)(
    'psql: the walkthrough queries, one by one, and a failing one',
    async ({ db }) => {
      const dir = await tempDir('psql');
      const file = join(dir, 'walkthrough.sql');
      await writeFile(file, [...seedQueries, 'select * from missing_table;'].join('\n'));
      const events = await record(db, async (port) => {
        const result = await run(
          psql!,
          ['-X', '-h', '127.0.0.1', '-p', String(port), '-U', 'app_user', '-d', 'x', '-f', file],
          {
            env: { ...process.env, PGPASSWORD: 'app-pw' },
          },
        );
        expect(result.stdout).toContain('new_record');
        expect(result.stderr).toContain('relation "missing_table" does not exist');
      });
      expect(queries(events).map((query) => query.sql.trim())).toEqual([
        ...seedQueries,
        'select * from missing_table;',
      ]);
      expect(results(events).map((result) => result.error ?? result.tag)).toEqual([
        'SELECT 3',
        'INSERT 0 1',
        'UPDATE 1',
        'SELECT 1',
        'DELETE 1',
        '42P01',
      ]);
    },
  );
});
