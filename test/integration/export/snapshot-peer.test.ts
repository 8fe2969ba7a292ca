// The export's second connection (src/export/snapshot-peer.ts, table-lanes.ts): it reads the next table on
// the export's own snapshot while another table is written, with the same read-only guarantees, and the
// capsule comes out with the same rows, bytes and integrity as with one connection.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { generateIdentity, identityToRecipient } from 'age-encryption';
import { afterEach, beforeEach, describe, expect } from 'vitest';

import { DatabaseError } from '../../../src/errors.js';
import type { ExportGraph } from '../../../src/export/snapshot.js';
import { openSnapshotPeer, peerBeginStatements } from '../../../src/export/snapshot-peer.js';
import { connect } from '../../../src/postgres/connect.js';
import { DatabaseUrl } from '../../../src/postgres/database-url.js';
import { identifyServer } from '../../../src/postgres/server-identity.js';
import { exportCapsule, type ExportOptions } from '../../../src/services/export.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';
import { capsuleRowTexts, manifestFrom } from './helpers.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'export-peer-'));
});
afterEach(async () => {
  delete process.env.REPLAY_ENV_EXPORT_CONNECTIONS;
  await rm(dir, { recursive: true, force: true });
});

// Four tables of several MB each, so tables overlap: while one streams, the next is read ahead.
const schema = `
  create table accounts (account_id text primary key, email text not null);
  insert into accounts values ('a1', 'ann@example.com'), ('a2', 'bo@example.com');
  create table events (id bigint primary key, account_id text not null, doc jsonb not null);
  create table notes (id bigint primary key, account_id text not null, body text not null, ip text);
  create table audit (id bigserial primary key, account_id text not null, note text);
  create sequence s;
  insert into events select i, case when i % 5 = 0 then 'a2' else 'a1' end,
    jsonb_build_object('n', i, 'token', 't' || i, 'deep', jsonb_build_array(jsonb_build_object('token', i)))
    from generate_series(1, 30000) i;
  insert into notes select i, 'a1', repeat('note ' || i || ' ü 🚀 ', 20), '192.0.2.' || (i % 250)
    from generate_series(1, 20000) i;
  insert into audit (account_id, note) select 'a1', 'n' || i from generate_series(1, 20000) i;
`;

const table = (name: string, alias: string, extra: Record<string, unknown> = {}) => ({
  name,
  alias,
  where: `${alias}.account_id in (select account_id from graph_keys)`,
  orderBy: `${alias}.${name === 'accounts' ? 'account_id' : 'id'}`,
  ...extra,
});
const manifest = (
  tables = [table('accounts', 'a'), table('events', 'e'), table('notes', 'n'), table('audit', 'u')],
) =>
  manifestFrom({
    appId: 'acct',
    adapter: 'postgres-subject-graph.v1',
    subjectKeys: ['account_id'],
    postgres: { tables },
    redactionRules: [
      { fields: ['email'], action: 'hash' },
      { fields: ['token'], action: 'empty' },
      { fields: ['ip'], action: 'null' },
    ],
  });

function run(db: TestDatabase, out: string, extra: Partial<ExportOptions> = {}) {
  return exportCapsule({
    manifest: manifest(),
    subject: { account_id: 'a1' },
    databaseUrl: db.url,
    out: join(dir, out),
    sinceDays: 180,
    redaction: 'safe',
    ...extra,
  });
}

/** Export connections (application_name) the server shows, sampled while the export streams. */
function watchConnections(db: TestDatabase) {
  const counts: Promise<number>[] = [];
  return {
    onProgress: () => {
      if (counts.length >= 20) return;
      counts.push(
        db
          .query<{ n: number }>(
            `select count(*)::int as n from pg_stat_activity
              where datname = current_database() and application_name = 'replay-env export'`,
          )
          .then((rows) => rows[0]!.n),
      );
    },
    max: async () => Math.max(0, ...(await Promise.all(counts))),
  };
}

/** Export connections still open (their backends leave pg_stat_activity shortly after the client ends). */
async function exportConnections(db: TestDatabase): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const [row] = await db.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity
        where datname = current_database() and application_name = 'replay-env export'`,
    );
    if (row!.n === 0 || attempt === 50) return row!.n;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('export on two connections sharing one snapshot', () => {
  dbTest('writes the same rows, bytes and integrity as one connection', async ({ db }) => {
    await db.query(schema);
    const two = watchConnections(db);
    const parallel = await run(db, 'two.json', { onProgress: two.onProgress });
    process.env.REPLAY_ENV_EXPORT_CONNECTIONS = '1';
    const one = watchConnections(db);
    const serial = await run(db, 'one.json', { onProgress: one.onProgress });
    expect(await two.max()).toBe(2);
    expect(await one.max()).toBe(1);
    expect(parallel.rowCounts).toEqual({ accounts: 1, events: 24000, notes: 20000, audit: 20000 });
    expect(parallel.rowCounts).toEqual(serial.rowCounts);
    const tablesOf = async (file: string) => {
      const text = await readFile(join(dir, file), 'utf8');
      return text.slice(text.indexOf('  "tables": {'));
    };
    // Everything from the tables on (rows, redaction, integrity) is byte-identical; the header differs
    // only in the export time.
    expect(await tablesOf('two.json')).toBe(await tablesOf('one.json'));
    const rows = await capsuleRowTexts(join(dir, 'two.json'));
    expect(rows.events![0]).toBe(
      `{"id": 1, "doc": {"n": 1, "deep": [{"token": ""}], "token": ""}, "account_id": "a1"}`,
    );
    expect(await readdir(dir)).toEqual(['one.json', 'two.json']); // no spool file left
  });

  dbTest(
    'an encrypted export reads on one connection: no plain-text spool ever touches disk',
    async ({ db }) => {
      await db.query(schema);
      const identity = await generateIdentity();
      const watched = watchConnections(db);
      const result = await run(db, 'c.json.age', {
        encryptTo: [await identityToRecipient(identity)],
        onProgress: watched.onProgress,
      });
      expect(result.rowCounts.events).toBe(24000);
      expect(await watched.max()).toBe(1);
    },
  );

  dbTest(
    'the second connection reads the snapshot: rows committed during the export are not in it',
    async ({ db }) => {
      await db.query(schema);
      let inserted: Promise<unknown> | undefined;
      const result = await run(db, 'c.json', {
        onProgress: (event) => {
          // While the first tables stream, commit rows into the last table (read on the second connection).
          if (!inserted && event.table !== 'audit') {
            inserted = db.query(
              `insert into audit (account_id, note) select 'a1', 'late' from generate_series(1, 500)`,
            );
          }
        },
      });
      await inserted;
      expect(await db.query(`select count(*)::int as n from audit`)).toEqual([{ n: 20500 }]);
      expect(result.rowCounts.audit).toBe(20000);
    },
  );

  dbTest(
    'a table read on the second connection cannot write (25006) and leaves nothing behind',
    async ({ db }) => {
      await db.query(schema);
      const error = await run(db, join('sub', 'c.json'), {
        manifest: manifest([table('accounts', 'a'), table('events', 'e', { where: `nextval('s') > 0` })]),
      }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DatabaseError);
      expect((error as DatabaseError).sqlState).toBe('25006');
      expect((error as DatabaseError).message).toContain('export: table events');
      expect(await db.query(`select last_value::int as v, is_called from s`)).toEqual([
        { v: 1, is_called: false },
      ]);
      expect(await readdir(join(dir, 'sub')).catch(() => [])).toEqual([]);
    },
  );

  dbTest(
    'a graph query that fails while the second connection opens leaves no connection and no file',
    async ({ db }) => {
      await db.query(schema);
      const parsed = manifest();
      // Slow enough that the second connection is still connecting or taking the snapshot when it fails.
      parsed.postgres.graphEdges.push(
        `select 'a1', 'x', (1 / z)::text from (select count(*)::int * 0 as z from pg_sleep(0.2)) s`,
      );
      const error = await run(db, join('sub', 'c.json'), { manifest: parsed }).catch(
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(DatabaseError);
      expect((error as DatabaseError).sqlState).toBe('22012');
      expect(await exportConnections(db)).toBe(0);
      expect(await readdir(join(dir, 'sub')).catch(() => [])).toEqual([]);
    },
  );

  dbTest(
    'a graph query that fails ends the wait for a second connection the server never answers',
    async ({ db }) => {
      // A server (or pooler) that accepts the connection and says nothing: the connect would only end at
      // its timeout (10 s, longer than this test's). The graph query failing must end it at once.
      const held: Socket[] = [];
      let connected = () => {};
      const arrived = new Promise<void>((resolve) => (connected = resolve));
      const silent = createServer((socket) => {
        held.push(socket);
        connected();
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const port = (silent.address() as { port: number }).port;
      try {
        const client = await connect(db.url, { action: 'test', applicationName: 'replay-env test' });
        const server = await identifyServer(client).finally(() => client.end());
        // The graph query fails once the second connection has reached the server.
        const failed = arrived.then(() => Promise.reject(new Error('graph query failed')));
        const opened = await openSnapshotPeer({
          url: DatabaseUrl.parse(`postgres://nobody:pw@127.0.0.1:${port}/db?sslmode=disable`),
          snapshotId: '00000003-0000001B-1',
          server,
          manifest: manifest(),
          subject: { account_id: 'a1' },
          graph: failed,
        });
        expect(opened).toBeUndefined();
        expect(held).toHaveLength(1);
        // The attempt was abandoned, not waited out: the client hung up (the server never answered).
        await new Promise<void>((resolve) => (held[0]!.closed ? resolve() : held[0]!.once('close', resolve)));
        expect(held[0]!.closed).toBe(true);
      } finally {
        await new Promise((resolve) => silent.close(resolve));
      }
    },
  );

  dbTest('the second connection is READ ONLY, REPEATABLE READ, on the export snapshot', async ({ db }) => {
    await db.query(schema);
    // rowSql of the table read ahead reports its own transaction's settings.
    const probe = `jsonb_build_object('ro', current_setting('transaction_read_only'),
      'iso', current_setting('transaction_isolation'), 'tz', current_setting('TimeZone'),
      'pid', pg_backend_pid())`;
    const result = await exportCapsule({
      manifest: manifest([
        table('accounts', 'a', { rowSql: `jsonb_build_object('pid', pg_backend_pid())` }),
        table('events', 'e', { rowSql: probe, where: `e.id = 1` }),
      ]),
      subject: { account_id: 'a1' },
      databaseUrl: db.url,
      out: join(dir, 'c.json'),
      sinceDays: 180,
      redaction: 'safe',
    });
    expect(result.rowCounts).toEqual({ accounts: 1, events: 1 });
    const rows = await capsuleRowTexts(join(dir, 'c.json'));
    const first = JSON.parse(rows.accounts![0]!) as { pid: number };
    const peer = JSON.parse(rows.events![0]!) as { ro: string; iso: string; tz: string; pid: number };
    expect(peer).toMatchObject({ ro: 'on', iso: 'repeatable read', tz: 'UTC' });
    expect(peer.pid).not.toBe(first.pid);
  });

  dbTest('a second connection that cannot take the snapshot is closed and not used', async ({ db }) => {
    await db.query(schema);
    const client = await connect(db.url, { action: 'test', applicationName: 'replay-env export' });
    try {
      const server = await identifyServer(client);
      const parsed = manifest();
      const graph = {
        entries: [{ account_id: 'a1', reasons: ['subject'] }] as unknown as ExportGraph['entries'],
        exportedAt: '',
        sinceAt: '',
      };
      const options = { url: db.url, server, manifest: parsed, subject: { account_id: 'a1' }, graph };
      // A well-formed id no transaction exported, and the id of another server: both refused.
      expect(await openSnapshotPeer({ ...options, snapshotId: '00000009-00000009-1' })).toBeUndefined();
      const elsewhere = { ...server, systemIdentifier: '1', startedAt: 'never' };
      expect(await openSnapshotPeer({ ...options, server: elsewhere, snapshotId: '1-2-3' })).toBeUndefined();
      expect(() => peerBeginStatements("1-2'; commit; --")).toThrow(/not a snapshot id/);
      // Opened while the graph query runs (export.ts): a graph query that fails closes it too.
      await client.query('begin isolation level repeatable read, read only');
      const { rows } = await client.query<{ id: string }>('select pg_export_snapshot() as id');
      const failed = Promise.reject(new Error('graph query failed'));
      failed.catch(() => {});
      expect(await openSnapshotPeer({ ...options, snapshotId: rows[0]!.id, graph: failed })).toBeUndefined();
      await client.query('rollback');
      const open = await db.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity
              where datname = current_database() and application_name = 'replay-env export'`,
      );
      expect(open).toEqual([{ n: 1 }]); // only this test's own client
    } finally {
      await client.end();
    }
  });
});
