import { join } from 'node:path';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { DatabaseUrl } from '../../../../src/postgres/database-url.js';
import { type EmbeddedServer, startEmbeddedPostgres } from '../../../../src/postgres/embedded.js';
import { replaySession } from '../../../../src/services/replay.js';
import { seedTable, tempDir } from '../helpers.js';
import {
  findTool,
  libpqEnv,
  queriesOf,
  recordThrough,
  replayMatches,
  reportMissing,
  resultsOf,
  run,
} from './record-tool.js';

/**
 * pg_dump 15 (Debian) refuses a PostgreSQL 17 server, so this test starts Debian's PostgreSQL 15
 * server (run as the `postgres` OS user when we are root, like the embedded one) and dumps a
 * database through the proxy: REPEATABLE READ transaction, catalog queries, LOCK TABLE, COPY TO STDOUT;
 * then a custom-format dump and its pg_restore (COPY FROM STDIN), each recorded and replayed.
 */
const bin = '/usr/lib/postgresql/15/bin';
const pgDump = findTool(`${bin}/pg_dump`, '/usr/bin/pg_dump');
const server15 = findTool(`${bin}/postgres`);
reportMissing('pg_dump 15', pgDump === undefined);
reportMissing('the PostgreSQL 15 server (/usr/lib/postgresql/15/bin/postgres)', server15 === undefined);

const pgRestore = findTool(`${bin}/pg_restore`, '/usr/bin/pg_restore');
reportMissing('pg_restore 15', pgRestore === undefined);

/** Runs one SQL string on `url` (the PG 15 server's). */
async function query(url: DatabaseUrl, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url.connectionString() });
  await client.connect();
  try {
    return (await client.query(sql)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

const snapshot = async (url: DatabaseUrl) =>
  await query(url, 'select id, name, value, created_at::text from test_data order by id');

describe.skipIf(pgDump === undefined || server15 === undefined)('pg_dump through the recording proxy', () => {
  let server: EmbeddedServer | undefined;
  let url: DatabaseUrl;
  beforeAll(async () => {
    server = await startEmbeddedPostgres({
      binaries: { initdb: `${bin}/initdb`, postgres: server15! },
      settings: { fsync: 'off' },
    });
    await query(server.adminUrl, 'create database dumped');
    url = server.adminUrl.withDatabase('dumped');
    await query(
      url,
      `${seedTable}
      insert into test_data (name, value) select 'bulk ' || n, n from generate_series(1, 3000) n;
      create view big_values as select name from test_data where value > 100;
      create index on test_data (value);
      comment on table test_data is 'recorded by pg_dump';`,
    );
  }, 120_000);
  afterAll(async () => await server?.stop());

  it(
    'a plain dump recorded through the proxy replays with --rollback, nothing changed',
    { timeout: 120_000 },
    async () => {
      const recording = await recordThrough(url, async (port) => {
        const result = await run(pgDump!, ['--no-password'], { env: libpqEnv(port), timeout: 60_000 });
        expect(result.stdout).toContain('CREATE TABLE public.test_data');
        expect(result.stdout).toContain("COMMENT ON TABLE public.test_data IS 'recorded by pg_dump'");
        expect(result.stdout).toMatch(/COPY public\.test_data .* FROM stdin;\n1\ttest1\t150/);
      });
      const sqls = queriesOf(recording.events).map((recorded) => recorded.sql);
      expect(sqls.some((sql) => /ISOLATION LEVEL REPEATABLE READ/i.test(sql))).toBe(true);
      expect(sqls.some((sql) => /^COPY .* TO stdout/i.test(sql))).toBe(true);
      const before = await snapshot(url);
      const replay = await replayMatches(recording.file, url);
      expect(replay.matched).toBeGreaterThan(10);
      // COPY … TO stdout is compared by its data: 3003 rows, the first 1000 kept, all digested.
      const copy = resultsOf(recording.events).find((result) => /^COPY 3003$/.test(result.command_tag ?? ''));
      expect(copy).toMatchObject({ columns: ['copy'], row_count: 3003, truncated: true });
      const replayed = replay.queries.find((replayedQuery) =>
        /^COPY .*test_data.* TO stdout/i.test(replayedQuery.sql),
      );
      expect(replayed?.verdict).toBe('matched');
      expect(await snapshot(url)).toEqual(before);
    },
  );

  it.skipIf(pgRestore === undefined)(
    'pg_dump -Fc and pg_restore through the proxy: both replay with --rollback; the restore with --commit loads every row',
    { timeout: 180_000 },
    async () => {
      const dir = await tempDir('pg-restore');
      const archive = join(dir, 'dump.custom');
      const dump = await recordThrough(url, async (port) => {
        await run(pgDump!, ['-Fc', '-f', archive], { env: libpqEnv(port), timeout: 60_000 });
      });
      await replayMatches(dump.file, url);
      const expected = await snapshot(url);
      const admin = server!.adminUrl;
      await query(admin, 'create database restored');
      const restoredUrl = admin.withDatabase('restored');
      const restore = await recordThrough(restoredUrl, async (port) => {
        await run(pgRestore!, ['--no-owner', '--exit-on-error', '-d', 'x', archive], {
          env: libpqEnv(port),
          timeout: 60_000,
        });
      });
      expect(
        resultsOf(restore.events).some((result) => result.copy_in && result.command_tag === 'COPY 3003'),
      ).toBe(true);
      expect(await snapshot(restoredUrl)).toEqual(expected);
      // The replay meets the database as the recording did: empty.
      await query(admin, 'drop database restored');
      await query(admin, 'create database restored');
      await replayMatches(restore.file, restoredUrl);
      const tables = async (target: DatabaseUrl) =>
        await query(target, `select count(*)::int as n from pg_class where relname = 'test_data'`);
      expect(await tables(restoredUrl)).toEqual([{ n: 0 }]);
      await query(admin, 'create database fresh');
      const freshUrl = admin.withDatabase('fresh');
      const committed = await replaySession({ file: restore.file, databaseUrl: freshUrl, rollback: false });
      expect(committed.ok).toBe(true);
      expect(await snapshot(freshUrl)).toEqual(expected);
      expect(await query(freshUrl, `select obj_description('test_data'::regclass) as c`)).toEqual([
        { c: 'recorded by pg_dump' },
      ]);
    },
  );
});
