import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

import { expect } from 'vitest';

import type { QueryEvent, QueryResultEvent, SessionEvent } from '../../../../src/generated/session.js';
import type { DatabaseUrl } from '../../../../src/postgres/database-url.js';
import type { RecordingProxyOptions } from '../../../../src/services/record.js';
import { replaySession, type ReplaySessionResult } from '../../../../src/services/replay.js';
import { validateAgainstSchema } from '../../../../src/validation.js';
import type { TestDatabase } from '../../../setup/database.js';
import { readSession, seedTable, startTestProxy } from '../helpers.js';

export const run = promisify(execFile);

/** The first path that exists, or undefined (the test then skips, naming the tool). */
export function findTool(...paths: string[]): string | undefined {
  return paths.find((path) => existsSync(path));
}

/** Debian's python3 (the one python3-psycopg/psycopg2 install into), if it can import `module`. */
export async function pythonWith(module: string): Promise<string | undefined> {
  for (const python of ['/usr/bin/python3', 'python3']) {
    try {
      await run(python, ['-c', `import ${module}`]);
      return python;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

/** Prints why a test file skips, so a bare machine's run says what it did not test. */
export function reportMissing(tool: string, missing: boolean): void {
  if (missing) console.warn(`⏭  skipping real-client tests: ${tool} is not installed`);
}

export const pseudo = { user: 'app_user', password: 'app-pw' };

export interface ToolRecording {
  /** The first session's file and events. */
  file: string;
  events: SessionEvent[];
  /** Every session, in the order they started (tools such as pgbench open several). */
  sessions: { file: string; events: SessionEvent[] }[];
}

/** Starts a recording proxy to `target`, lets `work` drive it on its port, returns the session file. */
export async function recordThrough(
  target: DatabaseUrl,
  work: (port: number) => Promise<void>,
  options: Partial<RecordingProxyOptions> = {},
): Promise<ToolRecording> {
  const proxy = await startTestProxy(target, 'real-client', {
    pseudoUsers: [{ name: pseudo.user, password: pseudo.password }],
    ...options,
  });
  try {
    await work(proxy.address.port);
  } finally {
    await proxy.close();
  }
  const files = proxy.sessionFiles();
  expect(files.length).toBeGreaterThan(0);
  const sessions = [];
  for (const file of files) {
    const events = await readSession(file);
    expect(validateAgainstSchema('session', events)).toEqual([]);
    sessions.push({ file, events });
  }
  return { ...sessions[0]!, sessions };
}

/** libpq environment for a tool logging in through the proxy. */
export function libpqEnv(port: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PGHOST: '127.0.0.1',
    PGPORT: String(port),
    PGUSER: pseudo.user,
    PGPASSWORD: pseudo.password,
    PGDATABASE: 'x',
    PGSSLMODE: 'disable',
  };
}

/** Replays with --rollback and asserts every compared query matched and none failed anew. */
export async function replayMatches(
  file: string,
  databaseUrl: DatabaseUrl,
  ignoreColumns: string[] = [],
): Promise<ReplaySessionResult> {
  const replay = await replaySession({ file, databaseUrl, rollback: true, ignoreColumns });
  const bad = replay.queries.filter(
    (query) => !['matched', 'error-matched', 'not-compared'].includes(query.verdict),
  );
  expect(
    bad.map((query) => ({
      n: query.queryNumber,
      sql: query.sql.slice(0, 120),
      v: query.verdict,
      diff: query.diff,
    })),
  ).toEqual([]);
  expect(replay.ok).toBe(true);
  // Only transaction control (translated under --rollback) may go uncompared; anything else is a gap.
  const uncompared = replay.queries.filter((query) => query.verdict === 'not-compared');
  expect(
    uncompared.filter((query) => !isTransactionControl(query.sql)).map((query) => [query.sql, query.note]),
  ).toEqual([]);
  expect(replay.matched).toBeGreaterThan(0);
  return replay;
}

export const queriesOf = (events: SessionEvent[]) =>
  events.filter((event): event is QueryEvent => event.type === 'query').map((event) => event.data);
export const resultsOf = (events: SessionEvent[]) =>
  events
    .filter((event): event is QueryResultEvent => event.type === 'query_result')
    .map((event) => event.data);

/** Puts test_data back as it was before the recording, so the replay meets the same state. */
export async function reseed(db: TestDatabase): Promise<void> {
  await db.query('drop table test_data');
  await db.query(seedTable);
}

const transactionControl =
  /^\s*(begin|start\s+transaction|commit|end|rollback|abort|savepoint|release|set\s+transaction|set\s+session\s+characteristics|vacuum)\b/i;
function isTransactionControl(sql: string): boolean {
  return transactionControl.test(sql);
}
