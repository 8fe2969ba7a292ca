import { describe, expect, it } from 'vitest';

import { type EmbeddedServer, startEmbeddedPostgres } from '../../../../src/postgres/embedded.js';
import { seedTable } from '../helpers.js';
import {
  findTool,
  libpqEnv,
  queriesOf,
  recordThrough,
  replayMatches,
  reportMissing,
  run,
} from './record-tool.js';

/**
 * pg_dump 15 (Debian) refuses a PostgreSQL 17 server, so this test starts Debian's PostgreSQL 15
 * server (run as the `postgres` OS user when we are root, like the embedded one) and dumps a
 * database through the proxy: REPEATABLE READ transaction, catalog queries, LOCK TABLE, COPY TO STDOUT.
 */
const bin = '/usr/lib/postgresql/15/bin';
const pgDump = findTool(`${bin}/pg_dump`, '/usr/bin/pg_dump');
const server15 = findTool(`${bin}/postgres`);
reportMissing('pg_dump 15', pgDump === undefined);
reportMissing('the PostgreSQL 15 server (/usr/lib/postgresql/15/bin/postgres)', server15 === undefined);

describe.skipIf(pgDump === undefined || server15 === undefined)('pg_dump through the recording proxy', () => {
  it(
    'a plain dump recorded through the proxy replays with --rollback, nothing changed',
    { timeout: 120_000 },
    async () => {
      let server: EmbeddedServer | undefined;
      try {
        server = await startEmbeddedPostgres({
          binaries: { initdb: `${bin}/initdb`, postgres: server15! },
          settings: { fsync: 'off' },
        });
        const admin = server.adminUrl;
        const { default: pg } = await import('pg');
        const query = async (url: string, sql: string) => {
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          try {
            return (await client.query(sql)) as unknown as { rows: Record<string, unknown>[] };
          } finally {
            await client.end();
          }
        };
        await query(admin.connectionString(), 'create database dumped');
        const url = admin.withDatabase('dumped');
        await query(
          url.connectionString(),
          `${seedTable}
        create view big_values as select name from test_data where value > 100;
        create index on test_data (value);
        comment on table test_data is 'recorded by pg_dump';`,
        );
        const recording = await recordThrough(url, async (port) => {
          const result = await run(pgDump!, ['--no-password'], { env: libpqEnv(port), timeout: 60_000 });
          expect(result.stdout).toContain('CREATE TABLE public.test_data');
          expect(result.stdout).toContain("COMMENT ON TABLE public.test_data IS 'recorded by pg_dump'");
          expect(result.stdout).toMatch(/COPY public\.test_data .* FROM stdin;\n1\ttest1\t150/);
        });
        const sqls = queriesOf(recording.events).map((recorded) => recorded.sql);
        expect(sqls.some((sql) => /ISOLATION LEVEL REPEATABLE READ/i.test(sql))).toBe(true);
        expect(sqls.some((sql) => /^COPY .* TO stdout/i.test(sql))).toBe(true);
        const snapshot = async () =>
          (await query(url.connectionString(), 'select id, name, value from test_data order by id')).rows;
        const before = await snapshot();
        const replay = await replayMatches(recording.file, url);
        expect(replay.matched).toBeGreaterThan(10);
        // COPY … TO stdout is compared by its tag (the copied rows travel as CopyData, not recorded).
        const copy = replay.queries.find((replayed) => /^COPY .* TO stdout/i.test(replayed.sql));
        expect(copy?.verdict).toBe('matched');
        expect(await snapshot()).toEqual(before);
      } finally {
        await server?.stop();
      }
    },
  );
});
