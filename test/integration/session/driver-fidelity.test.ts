import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

import pg from 'pg';
import { serialize } from 'pg-protocol';
import postgres from 'postgres';
import { describe, expect } from 'vitest';

import type { QueryEvent, QueryResultEvent, SessionEvent } from '../../../src/generated/session.js';
import type { RecordingProxyOptions } from '../../../src/services/record.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';
import { tempDir } from './helpers.js';
import { recordThrough } from './real-clients/record-tool.js';

const run = promisify(execFile);
const psql = ['/usr/bin/psql', '/usr/local/bin/psql'].find((path) => existsSync(path));
if (!psql) console.warn('SKIPPED: LATIN1 recording through psql (no psql on this machine)');

const typesTable = `
  create table typed (id int primary key, b bool, i2 int2, i8 int8, f4 float4, f8 float8, n numeric(12,4),
    d date, ts timestamp, u uuid, j jsonb, t text, bin bytea);
  insert into typed values
    (1, true, -7, 9007199254740993, 1.25, 0.1, -1234.5678, '2024-02-29', '2024-02-29 13:14:15.123456',
     'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, "x"]}', 'héllo', '\\x00ff'),
    (2, false, 0, -1, 3.4e38, 1e-300, 0.0001, '0099-01-01 BC', '1999-12-31 23:59:59', null, 'null', '', '\\x'),
    (3, null, null, null, 'NaN', '-Infinity', 'NaN', 'infinity', '-infinity', null, null, null, null);`;

async function record(
  db: TestDatabase,
  work: (port: number) => Promise<void>,
  extra: Partial<RecordingProxyOptions> = {},
): Promise<SessionEvent[]> {
  return (await recordThrough(db.url, work, extra)).events;
}

const results = (events: SessionEvent[]) =>
  events
    .filter((event): event is QueryResultEvent => event.type === 'query_result')
    .map((event) => event.data);
const queries = (events: SessionEvent[]) =>
  events.filter((event): event is QueryEvent => event.type === 'query').map((event) => event.data);

describe('what real drivers send is recorded as the server meant it', () => {
  dbTest('binary result columns are recorded as the text the server prints', async ({ db }) => {
    await db.query(typesTable);
    // The oracle: the same query in text format, values exactly as the server prints them.
    const oracle = new pg.Client(db.url.connectionString());
    await oracle.connect();
    const textRows = (
      await oracle.query({
        text: 'select b, i2, i8, f4, f8, n, d, ts, u, j, t, bin from typed order by id',
        rowMode: 'array',
        types: { getTypeParser: () => (value: string) => value },
      })
    ).rows;
    await oracle.end();
    expect(textRows).toHaveLength(3);
    const events = await record(db, async (port) => {
      // node-postgres' `binary` option asks for every result column in binary format.
      const config = { host: '127.0.0.1', port, user: 'app_user', password: 'app-pw', binary: true };
      const client = new pg.Client(config as pg.ClientConfig);
      await client.connect();
      await client.query(
        'select b, i2, i8, f4, f8, n, d, ts, u, j, t, bin from typed where id > $1 order by id',
        [0],
      );
      await client.end();
    });
    const result = results(events).find((entry) => entry.command_tag === 'SELECT 3')!;
    expect(result.columns).toEqual(['b', 'i2', 'i8', 'f4', 'f8', 'n', 'd', 'ts', 'u', 'j', 't', 'bin']);
    expect(result.rows).toEqual(textRows);
    expect(result.undecoded_columns).toBeUndefined();
  });

  dbTest('a cursor fetched in batches (portal suspended) is one query with all its rows', async ({ db }) => {
    const events = await record(db, async (port) => {
      const sql = postgres({ host: '127.0.0.1', port, user: 'app_user', password: 'app-pw', max: 1 });
      let seen = 0;
      await sql`select g from generate_series(1, 25) g`.cursor(10, (rows) => {
        seen += rows.length;
      });
      expect(seen).toBe(25);
      await sql.end();
    });
    const series = results(events).filter((entry) => entry.columns.includes('g'));
    expect(series).toHaveLength(1);
    expect(series[0]).toMatchObject({ row_count: 25, command_tag: 'SELECT 25', batches: 3 });
    expect(series[0]!.rows.map((row) => row[0])).toEqual(
      Array.from({ length: 25 }, (_, index) => String(index + 1)),
    );
  });

  dbTest('statements skipped after an error in a pipeline are recorded as skipped', async ({ db }) => {
    const events = await record(db, async (port) => {
      // One pipeline on a raw connection: two Parse/Bind/Execute and a single Sync.
      const socket = connect({ host: '127.0.0.1', port });
      await new Promise((resolve) => socket.once('connect', resolve));
      let received = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
      const readyCount = () => received.toString('latin1').split('Z\0\0\0\x05').length - 1;
      const waitReady = async (count: number) => {
        while (readyCount() < count) await new Promise((resolve) => setTimeout(resolve, 20));
      };
      socket.write(
        Buffer.concat([serialize.startup({ user: 'app_user', database: 'x' }), serialize.password('app-pw')]),
      );
      await waitReady(1);
      socket.write(
        Buffer.concat([
          serialize.parse({ text: 'select 1/0' }),
          serialize.bind({}),
          serialize.execute({}),
          serialize.parse({ text: 'select 2' }),
          serialize.bind({}),
          serialize.execute({}),
          serialize.sync(),
        ]),
      );
      await waitReady(2);
      socket.end(serialize.end());
    });
    const [failed, skipped] = results(events);
    expect(failed?.error?.code).toBe('22012');
    expect(skipped).toMatchObject({ skipped: true, error: null, command_tag: null });
  });

  dbTest('parameter type OIDs declared in Parse are recorded', async ({ db }) => {
    const events = await record(db, async (port) => {
      const sql = postgres({ host: '127.0.0.1', port, user: 'app_user', password: 'app-pw', max: 1 });
      await sql`select ${sql.typed(5, 20)} + 1 as n`;
      await sql.end();
    });
    const query = queries(events).find((entry) => entry.sql.includes('+ 1 as n'));
    expect(query?.param_types).toEqual([20]);
  });

  dbTest('a large result keeps the first rows, the count and a digest of all rows', async ({ db }) => {
    const events = await record(
      db,
      async (port) => {
        const client = new pg.Client({ host: '127.0.0.1', port, user: 'app_user', password: 'app-pw' });
        await client.connect();
        await client.query('select g, md5(g::text) from generate_series(1, 5000) g');
        await client.end();
      },
      { maxRecordedRows: 100 },
    );
    const result = results(events).find((entry) => entry.command_tag === 'SELECT 5000')!;
    expect(result).toMatchObject({ row_count: 5000, truncated: true });
    expect(result.rows).toHaveLength(100);
    expect(result.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  dbTest.runIf(psql !== undefined)(
    'LATIN1 client encoding: SQL and results recorded as the characters meant',
    async ({ db }) => {
      const dir = await tempDir('latin1');
      const file = join(dir, 'latin1.sql');
      await writeFile(file, Buffer.from("select 'café crème' as drink;\n", 'latin1'));
      const events = await record(db, async (port) => {
        const result = await run(
          psql!,
          ['-X', '-At', '-h', '127.0.0.1', '-p', String(port), '-U', 'app_user', '-d', 'x', '-f', file],
          {
            env: { ...process.env, PGPASSWORD: 'app-pw', PGCLIENTENCODING: 'LATIN1' },
            encoding: 'latin1',
          },
        );
        expect(result.stdout + result.stderr).toContain('café crème');
      });
      const query = queries(events).find((entry) => entry.sql.includes('drink'));
      expect(query?.sql).toBe("select 'café crème' as drink;");
      expect(results(events).find((entry) => entry.columns[0] === 'drink')?.rows).toEqual([['café crème']]);
    },
  );
});
