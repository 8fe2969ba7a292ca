import { readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { describe, expect } from 'vitest';

import { replaySession } from '../../../../src/services/replay.js';
import { dbTest, type TestDatabase } from '../../../setup/database.js';
import { readSession, tempDir } from '../helpers.js';
import {
  findTool,
  libpqEnv,
  pseudo,
  pythonWith,
  recordThrough,
  replayMatches,
  reportMissing,
  resultsOf,
  run,
} from './record-tool.js';

/**
 * COPY FROM STDIN data is recorded to the session's side file and replayed: under --rollback on the
 * recorded database (results match, table unchanged), and with --commit on a fresh database (the rows
 * arrive value for value). COPY TO is compared by its data. Clients: pg-copy-streams (always), psql
 * `\copy`, psycopg 3 `cursor.copy()`, `pgbench -i` where installed.
 */
const psql = findTool('/usr/bin/psql', '/usr/lib/postgresql/15/bin/psql');
const pgbench = findTool('/usr/bin/pgbench', '/usr/lib/postgresql/15/bin/pgbench');
reportMissing('psql', psql === undefined);
reportMissing('pgbench', pgbench === undefined);
const python = await pythonWith('psycopg');
reportMissing('python3-psycopg', python === undefined);

const schema = `create table copied (id int primary key, name text, note text, amount numeric, at timestamptz)`;
/** Awkward values on purpose: tabs, backslashes, newlines, NULLs, unicode, quotes. */
const rows = [
  `1\tplain\t\\N\t1.50\t2025-01-02 03:04:05+00`,
  `2\ttab\\there\tback\\\\slash\t-0.001\t\\N`,
  `3\tnew\\nline\tünïcødé ✓\t12345678901234567890.5\t1999-12-31 23:59:59+00`,
  `4\t'quote"\t\\N\t0\t2000-02-29 12:00:00+00`,
];
const copyText = `${rows.join('\n')}\n`;

const contents = async (db: TestDatabase): Promise<unknown[]> =>
  await db.query('select id, name, note, amount::text, at::text from copied order by id');

/** Runs `client` through the proxy; returns the recording's only session file. */
async function recordCopy(db: TestDatabase, client: (port: number) => Promise<void>): Promise<string> {
  await db.query(schema);
  const recording = await recordThrough(db.url, client);
  const copy = resultsOf(recording.events).find((result) => result.copy_in);
  expect(copy?.copy_in).toMatchObject({ bytes: expect.any(Number) as number, offset: 0 });
  expect(copy?.copy_in?.truncated).toBeUndefined();
  return recording.file;
}

/** --rollback on the recorded database (put back as it was), then --commit on a fresh one. */
async function replayBoth(db: TestDatabase, file: string): Promise<void> {
  const recorded = await contents(db);
  expect(recorded.length).toBeGreaterThan(0);
  await db.query('truncate copied');
  await replayMatches(file, db.url);
  expect(await contents(db)).toEqual([]);
  const fresh = await db.sibling();
  await fresh.query(schema);
  const replay = await replaySession({ file, databaseUrl: fresh.url, rollback: false });
  expect(
    replay.queries.filter((query) => query.verdict !== 'matched' && query.verdict !== 'not-compared'),
  ).toEqual([]);
  expect(await contents(fresh)).toEqual(recorded);
}

async function nodeClient(port: number): Promise<pg.Client> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: pseudo.user, password: pseudo.password });
  await client.connect();
  return client;
}

describe('COPY FROM STDIN recorded and replayed', () => {
  dbTest(
    'pg-copy-streams: copy from, then copy to compared by its data',
    { timeout: 60_000 },
    async ({ db }) => {
      const file = await recordCopy(db, async (port) => {
        const client = await nodeClient(port);
        await pipeline(
          Readable.from([copyText.slice(0, 50), copyText.slice(50)]),
          client.query(copyFrom('copy copied from stdin')),
        );
        const out: Buffer[] = [];
        await pipeline(
          client.query(copyTo('copy (select * from copied order by id) to stdout')),
          new Writable({ write: (chunk: Buffer, _encoding, done) => (out.push(chunk), done()) }),
        );
        expect(Buffer.concat(out).toString()).toContain('ünïcødé ✓');
        await client.end();
      });
      const copyOut = resultsOf(await readSession(file)).find((result) => result.columns[0] === 'copy');
      expect(copyOut?.rows.map(([line]) => line)).toEqual(rows.map((row) => `${row}\n`));
      await replayBoth(db, file);
    },
  );

  dbTest(
    'COPY TO is compared by its data: a changed row is a mismatch',
    { timeout: 60_000 },
    async ({ db }) => {
      await db.query(schema);
      await db.query(`insert into copied values (1, 'a', null, 1, null), (2, 'b', null, 2, null)`);
      const recording = await recordThrough(db.url, async (port) => {
        const client = await nodeClient(port);
        await pipeline(
          client.query(copyTo('copy copied to stdout (format csv)')),
          new Writable({ write: (_chunk: Buffer, _encoding, done) => done() }),
        );
        await client.end();
      });
      await db.query(`update copied set name = 'changed' where id = 2`);
      const replay = await replaySession({ file: recording.file, databaseUrl: db.url, rollback: true });
      const copy = replay.queries.find((query) => /^copy copied to/.test(query.sql));
      expect(copy).toMatchObject({ verdict: 'mismatched' });
      expect(copy?.diff).toContain('changed');
    },
  );

  dbTest.skipIf(psql === undefined)('psql \\copy from and to', { timeout: 60_000 }, async ({ db }) => {
    const dir = await tempDir('psql-copy');
    await writeFile(join(dir, 'in.tsv'), copyText);
    const file = await recordCopy(db, async (port) => {
      await run(
        psql!,
        [
          '-v',
          'ON_ERROR_STOP=1',
          '-c',
          `\\copy copied from '${join(dir, 'in.tsv')}'`,
          '-c',
          `\\copy copied to '${join(dir, 'out.tsv')}'`,
        ],
        {
          env: libpqEnv(port),
        },
      );
    });
    expect(await readFile(join(dir, 'out.tsv'), 'utf8')).toBe(copyText);
    await replayBoth(db, file);
  });

  dbTest.skipIf(python === undefined)(
    'psycopg 3 cursor.copy (text rows and write_row)',
    { timeout: 60_000 },
    async ({ db }) => {
      const script = `
import os, psycopg
with psycopg.connect(host='127.0.0.1', port=int(os.environ['PGPORT']), user=os.environ['PGUSER'], password=os.environ['PGPASSWORD'], dbname='x', sslmode='disable') as conn:
    with conn.cursor() as cur:
        with cur.copy("copy copied (id, name, note, amount, at) from stdin") as copy:
            copy.write(${JSON.stringify(copyText)}.encode())
        with cur.copy("copy copied (id, name) from stdin") as copy:
            for i in range(10, 200):
                copy.write_row((i, f"row {i}"))
`;
      const file = await recordCopy(db, async (port) => {
        await run(python!, ['-c', script], { env: libpqEnv(port) });
      });
      await replayBoth(db, file);
    },
  );
});

describe('COPY FROM STDIN over the recording cap', () => {
  dbTest(
    'keeps what fits, and replay says loudly it cannot reproduce the COPY',
    { timeout: 60_000 },
    async ({ db }) => {
      await db.query(schema);
      const recording = await recordThrough(
        db.url,
        async (port) => {
          const client = await nodeClient(port);
          await pipeline(Readable.from([copyText]), client.query(copyFrom('copy copied from stdin')));
          await client.end();
        },
        { maxCopyBytes: 40 },
      );
      const copy = resultsOf(recording.events).find((result) => result.copy_in)?.copy_in;
      expect(copy).toMatchObject({ bytes: Buffer.byteLength(copyText), recorded_bytes: 40, truncated: true });
      expect((await stat(join(dirname(recording.file), copy!.file))).size).toBe(40);
      await db.query('truncate copied');
      const replay = await replaySession({ file: recording.file, databaseUrl: db.url, rollback: true });
      expect(replay.ok).toBe(false);
      expect(replay.unreproducible).toBe(1);
      expect(replay.queries.find((query) => query.unreproducible)?.note).toMatch(
        /cannot reproduce: the COPY sent \d+ bytes, over the recording cap \(40 recorded/,
      );
      expect(await contents(db)).toEqual([]);
    },
  );
});

describe.skipIf(pgbench === undefined)('pgbench -i through the recording proxy', () => {
  dbTest(
    'pgbench -i -s 1: 100 000 accounts copied, replayed under --rollback and --commit',
    { timeout: 240_000 },
    async ({ db }) => {
      const recording = await recordThrough(db.url, async (port) => {
        await run(pgbench!, ['-i', '-q', '-s', '1', '--no-vacuum'], {
          env: libpqEnv(port),
          timeout: 120_000,
        });
      });
      const copy = resultsOf(recording.events).find((result) => result.copy_in);
      expect(copy).toMatchObject({ command_tag: 'COPY 100000' });
      const digest = async (target: TestDatabase) =>
        await target.query(
          `select count(*)::int as n, md5(string_agg(aid || ':' || bid || ':' || abalance || ':' || filler, ',' order by aid)) from pgbench_accounts`,
        );
      const recorded = await digest(db);
      expect(recorded[0]).toMatchObject({ n: 100_000 });
      // pgbench -i drops and creates its tables: the rolled-back replay meets them as they were.
      await replayMatches(recording.file, db.url);
      expect(await digest(db)).toEqual(recorded);
      const fresh = await db.sibling();
      const replay = await replaySession({ file: recording.file, databaseUrl: fresh.url, rollback: false });
      expect(replay.ok).toBe(true);
      expect(await digest(fresh)).toEqual(recorded);
    },
  );
});
