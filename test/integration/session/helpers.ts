import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pg from 'pg';

import type { SessionEvent } from '../../../src/generated/session.js';
import type { DatabaseUrl } from '../../../src/postgres/database-url.js';
import {
  type RecordingProxy,
  type RecordingProxyOptions,
  startRecordingProxy,
} from '../../../src/services/record.js';
import type { TestDatabase } from '../../setup/database.js';

export const seedTable = `
  create table test_data (id serial primary key, name text not null, value int not null,
    created_at timestamp not null default '2025-10-07 22:42:12.977496');
  insert into test_data (name, value) values ('test1', 150), ('test2', 200), ('test3', 300);`;

/** The walkthrough's five queries. */
export const seedQueries = [
  'SELECT * FROM test_data;',
  "INSERT INTO test_data (name, value) VALUES ('new_record', 999);",
  "UPDATE test_data SET value = 1000 WHERE name = 'new_record';",
  'SELECT * FROM test_data WHERE value > 500;',
  "DELETE FROM test_data WHERE name = 'new_record';",
];

export async function tempDir(prefix: string): Promise<string> {
  return await mkdtemp(join(tmpdir(), `replay-env-${prefix}-`));
}

/**
 * A recording proxy to `target` on a free loopback port: pseudo user pseudo_user:pseudo-pw, sessions
 * in a fresh temp folder (named after `prefix`), no client TLS; `options` override any of these.
 */
export async function startTestProxy(
  target: DatabaseUrl,
  prefix: string,
  options: Partial<RecordingProxyOptions> = {},
): Promise<RecordingProxy> {
  return await startRecordingProxy({
    listen: '127.0.0.1:0',
    target,
    pseudoUsers: [{ name: 'pseudo_user', password: 'pseudo-pw' }],
    sessionsDir: await tempDir(prefix),
    clientTls: 'off',
    ...options,
  });
}

/** A pg client that logs in through the proxy as a pseudo user. */
export async function proxyClient(
  port: number,
  user = 'pseudo_user',
  password = 'pseudo-pw',
): Promise<pg.Client> {
  const client = new pg.Client({ host: '127.0.0.1', port, user, password, database: 'whatever' });
  client.on('error', () => {});
  await client.connect();
  return client;
}

export async function readSession(file: string): Promise<SessionEvent[]> {
  return JSON.parse(await readFile(file, 'utf8')) as SessionEvent[];
}

export async function tableContents(db: TestDatabase): Promise<unknown[]> {
  return await db.query('select id, name, value, created_at::text from test_data order by id');
}
