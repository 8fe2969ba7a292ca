import { readFile, stat } from 'node:fs/promises';

import { describe, expect } from 'vitest';

import { renderProxyEvent } from '../../../src/cli/render/record.js';
import type { QueryEvent, QueryResultEvent, SessionEvent } from '../../../src/generated/session.js';
import { type ProxyEvent, type RecordingProxy, startRecordingProxy } from '../../../src/services/record.js';
import { replaySession } from '../../../src/services/replay.js';
import { validateAgainstSchema } from '../../../src/validation.js';
import { dbTest, type TestDatabase, testerPassword } from '../../setup/database.js';
import { proxyClient, readSession, seedQueries, seedTable, tableContents, tempDir } from './helpers.js';

interface Recording {
  file: string;
  events: SessionEvent[];
  console: string;
}

async function withProxy<T>(
  db: TestDatabase,
  work: (proxy: RecordingProxy, log: ProxyEvent[]) => Promise<T>,
): Promise<T> {
  const dir = await tempDir('record');
  const log: ProxyEvent[] = [];
  const proxy = await startRecordingProxy({
    listen: '127.0.0.1:0',
    target: db.url,
    pseudoUsers: [
      { name: 'pseudo_user', password: 'pseudo-pw' },
      { name: 'other_user', password: 'other-pw' },
    ],
    sessionsDir: dir,
    onEvent: (event) => log.push(event),
  });
  try {
    return await work(proxy, log);
  } finally {
    await proxy.close();
  }
}

/** Records the walkthrough's session plus a parameterized and a failing query. */
async function recordSeedSession(db: TestDatabase): Promise<Recording> {
  await db.query(seedTable);
  return await withProxy(db, async (proxy, log) => {
    const client = await proxyClient(proxy.address.port);
    for (const sql of seedQueries) await client.query(sql);
    await client.query('select name, value from test_data where value >= $1 and name <> $2 order by id', [
      200,
      'x',
    ]);
    await expect(client.query('select * from missing_table')).rejects.toMatchObject({ code: '42P01' });
    await expect(client.query('select $1::int', ['nope'])).rejects.toMatchObject({ code: '22P02' });
    await client.end();
    await proxy.close();
    const [file] = proxy.sessionFiles();
    return {
      file: file!,
      events: await readSession(file!),
      console: log.flatMap((event) => renderProxyEvent(event)).join('\n'),
    };
  });
}

const queries = (events: SessionEvent[]): QueryEvent['data'][] =>
  events.filter((event): event is QueryEvent => event.type === 'query').map((event) => event.data);
const results = (events: SessionEvent[]): QueryResultEvent['data'][] =>
  events
    .filter((event): event is QueryResultEvent => event.type === 'query_result')
    .map((event) => event.data);

describe('record', () => {
  dbTest('records the walkthrough session in the seed shape, valid against the schema', async ({ db }) => {
    const { file, events, console } = await recordSeedSession(db);
    expect(file).toMatch(/pseudo_user_\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}\.json$/);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(validateAgainstSchema('session', events)).toEqual([]);
    expect(
      events.slice(0, 2).map((event) => event.type === 'session_activity' && event.data.activity),
    ).toEqual(['session_start', 'connection']);
    expect(events.at(-1)).toMatchObject({ type: 'session_activity', data: { activity: 'session_end' } });
    expect(events[1]).toMatchObject({
      data: {
        details: {
          pseudo_user: 'pseudo_user',
          real_user: 'replay_tester',
          database: db.name,
          real_db_host: '127.0.0.1',
        },
      },
    });
    expect(queries(events).map((query) => query.sql)).toEqual([
      ...seedQueries,
      'select name, value from test_data where value >= $1 and name <> $2 order by id',
      'select * from missing_table',
      'select $1::int',
    ]);
    expect(queries(events)[5]).toMatchObject({ query_number: 6, statement: '', params: ['200', 'x'] });
    expect(queries(events)[7]).toMatchObject({ params: ['nope'] });
    const byNumber = results(events);
    expect(byNumber.map((result) => result.command_tag)).toEqual([
      'SELECT 3',
      'INSERT 0 1',
      'UPDATE 1',
      'SELECT 1',
      'DELETE 1',
      'SELECT 2',
      null,
      null,
    ]);
    expect(byNumber[0]).toMatchObject({
      query_number: 1,
      columns: ['id', 'name', 'value', 'created_at'],
      rows: [
        ['1', 'test1', '150', '2025-10-07 22:42:12.977496'],
        ['2', 'test2', '200', '2025-10-07 22:42:12.977496'],
        ['3', 'test3', '300', '2025-10-07 22:42:12.977496'],
      ],
      row_count: 3,
      error: null,
    });
    expect(byNumber[3]).toMatchObject({ rows: [['4', 'new_record', '1000', '2025-10-07 22:42:12.977496']] });
    expect(byNumber[5]).toMatchObject({
      columns: ['name', 'value'],
      rows: [
        ['test2', '200'],
        ['test3', '300'],
      ],
    });
    expect(byNumber[6]!.error).toMatchObject({ code: '42P01', severity: 'ERROR' });
    expect(byNumber[7]!.error).toMatchObject({ code: '22P02' });
    expect(console).toContain('📝 Query #1 @');
    expect(console).toContain('│ 1  │ test1 │ 150   │ 2025-10-07 22:42:12.977496 │');
    expect(console).toContain('✓ INSERT 0 1');
    expect(console).toContain('postgres://replay_tester:***@');
    for (const text of [console, await readFile(file, 'utf8')]) expect(text).not.toContain(testerPassword());
  });

  dbTest('rejects a wrong pseudo password (28P01) and an unknown pseudo user (28000)', async ({ db }) => {
    await withProxy(db, async (proxy) => {
      for (const [user, password, code] of [
        ['pseudo_user', 'wrong', '28P01'],
        ['pseudo_user', '', '28P01'],
        ['replay_tester', testerPassword(), '28000'],
        ['nobody', 'pseudo-pw', '28000'],
      ] as const) {
        const error = await proxyClient(proxy.address.port, user, password).then(
          () => undefined,
          (caught: { code?: string; message: string }) => caught,
        );
        expect(error?.code, `${user}`).toBe(code);
        expect(error?.message).not.toContain(testerPassword());
      }
      expect(proxy.sessionFiles()).toEqual([]);
    });
  });

  dbTest('records two concurrent sessions into two files', async ({ db }) => {
    await withProxy(db, async (proxy) => {
      const [a, b] = await Promise.all([
        proxyClient(proxy.address.port),
        proxyClient(proxy.address.port, 'other_user', 'other-pw'),
      ]);
      await Promise.all([
        a.query('select 1 as a'),
        b.query('select 2 as b'),
        a.query('select $1::text as a2', ['x']),
        b.query('select pg_sleep(0.05)'),
      ]);
      await Promise.all([a.end(), b.end()]);
      await proxy.close();
      const files = proxy.sessionFiles();
      expect(files).toHaveLength(2);
      const sessions = await Promise.all(files.map(readSession));
      const sqls = sessions.map((events) => queries(events).map((query) => query.sql)).sort();
      expect(sqls).toEqual(
        [
          ['select $1::text as a2', 'select 1 as a'].sort().reverse(),
          ['select 2 as b', 'select pg_sleep(0.05)'],
        ].sort(),
      );
    });
  });
});

describe('replay', () => {
  dbTest('matches every result against an identical database', async ({ db }) => {
    const { file } = await recordSeedSession(db);
    const twin = await db.sibling();
    await twin.query(seedTable);
    const result = await replaySession({ file, databaseUrl: twin.url, rollback: false });
    expect(result).toMatchObject({
      queriesExecuted: 8,
      errors: 2,
      matched: 8,
      mismatched: 0,
      newErrors: 0,
      ok: true,
    });
    expect(result.queries.map((query) => query.verdict)).toEqual([
      ...Array(6).fill('matched'),
      'error-matched',
      'error-matched',
    ]);
  });

  dbTest('reports the differing row when one value changed', async ({ db }) => {
    const { file } = await recordSeedSession(db);
    const twin = await db.sibling();
    await twin.query(seedTable.replace("('test2', 200)", "('test2', 201)"));
    const result = await replaySession({ file, databaseUrl: twin.url, rollback: true });
    expect(result.ok).toBe(false);
    expect(result.mismatched).toBe(2);
    expect(result.queries[0]).toMatchObject({ verdict: 'mismatched' });
    expect(result.queries[0]!.diff).toBe(
      'row 2: expected ["2","test2","200","2025-10-07 22:42:12.977496"], got ["2","test2","201","2025-10-07 22:42:12.977496"]',
    );
    expect(result.queries[5]!.diff).toContain('row 1: expected ["test2","200"], got ["test2","201"]');
  });

  dbTest('--rollback leaves the target unchanged, even across recorded transactions', async ({ db }) => {
    await db.query(seedTable);
    const recorded = await withProxy(db, async (proxy) => {
      const client = await proxyClient(proxy.address.port);
      for (const sql of seedQueries.slice(1, 3)) await client.query(sql);
      await client.query('BEGIN');
      await client.query(`insert into test_data (name, value) values ($1, $2)`, ['in_tx', 7]);
      await client.query('COMMIT');
      await client.query('begin');
      await client.query('select * from nope').catch(() => {});
      await client.query('select 1').catch(() => {});
      await client.query('rollback');
      await client.query(`update test_data set value = value + 1`);
      await client.end();
      await proxy.close();
      return proxy.sessionFiles()[0]!;
    });
    const twin = await db.sibling();
    await twin.query(seedTable);
    const before = await tableContents(twin);
    const result = await replaySession({ file: recorded, databaseUrl: twin.url, rollback: true });
    expect(await tableContents(twin)).toEqual(before);
    expect(result.queries.map((query) => query.verdict)).toEqual([
      'matched',
      'matched',
      'not-compared',
      'matched',
      'not-compared',
      'not-compared',
      'error-matched',
      'error-matched',
      'not-compared',
      'matched',
    ]);
    expect(result.ok).toBe(true);
    // Without --rollback the same replay changes the table.
    await replaySession({ file: recorded, databaseUrl: twin.url, rollback: false });
    expect(await tableContents(twin)).not.toEqual(before);
  });

  dbTest('ignores volatile columns and row order when asked', async ({ db }) => {
    await db.query(seedTable);
    const file = await withProxy(db, async (proxy) => {
      const client = await proxyClient(proxy.address.port);
      await client.query('select name, now()::text as at from test_data order by id');
      await client.end();
      await proxy.close();
      return proxy.sessionFiles()[0]!;
    });
    const twin = await db.sibling();
    await twin.query(
      seedTable.replace(
        "('test1', 150), ('test2', 200), ('test3', 300)",
        "('test3', 300), ('test1', 150), ('test2', 200)",
      ),
    );
    expect((await replaySession({ file, databaseUrl: twin.url, rollback: true })).mismatched).toBe(1);
    const relaxed = await replaySession({
      file,
      databaseUrl: twin.url,
      rollback: true,
      ignoreColumns: ['at'],
      unordered: true,
    });
    expect(relaxed).toMatchObject({ ok: true, matched: 1 });
  });
});
