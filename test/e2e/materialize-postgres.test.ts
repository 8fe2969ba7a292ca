import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import pg from 'pg';
import { beforeAll, describe, expect } from 'vitest';

import {
  bulkOrders,
  capsuleDir,
  dumpTables,
  lineCapsuleText,
  shopCustomer,
  writeCapsuleFile,
} from '../setup/capsules.js';
import { parseJsonOutput, repoRoot, runCli } from '../setup/cli.js';
import { dbTest, testerPassword } from '../setup/database.js';
import { killLoadWhile, runLoadCommand } from '../setup/load-command.js';

const fixture = (name: string) => join(repoRoot, 'test/fixtures/original-tool', name);
const app = fixture('manifest.json');
const capsule = fixture('capsule.json');
const tables = ['customers', 'orders', 'order_notes'];
let schemaSql: string;
let dataSql: string;
let dir: string;

beforeAll(async () => {
  schemaSql = await readFile(fixture('schema.sql'), 'utf8');
  dataSql = await readFile(fixture('data.sql'), 'utf8');
  dir = await capsuleDir();
});

function expectNoPassword(...texts: string[]): void {
  for (const text of texts) expect(text).not.toContain(testerPassword());
}

describe('materialize-postgres', () => {
  dbTest('loads a capsule; --json is one document; the password appears nowhere', async ({ db }) => {
    await db.query(schemaSql);
    const target = { app, capsule, url: db.url.connectionString() };
    const result = await runLoadCommand('materialize-postgres', target, ['--json', '--profile']);
    expect(result.exitCode).toBe(0);
    const json = parseJsonOutput<Record<string, unknown>>(result.stdout);
    expect(json).toMatchObject({
      app: 'shop',
      database: db.url.identity(),
      strategy: 'copy',
      verified: true,
      rowCounts: { orders: 3, customers: 2, order_notes: 2 },
      loaded: { orders: 3, customers: 2, order_notes: 2 },
    });
    expect(Object.keys(json.phases as object)).toEqual([
      'stage',
      'check',
      'delete',
      'upsert',
      'indexes',
      'foreignKeys',
      'verify',
      'commit',
    ]);
    expectNoPassword(result.stdout, result.stderr);
  });

  dbTest('--log-level info logs the phases as JSON lines on stderr, without the password', async ({ db }) => {
    await db.query(schemaSql);
    const args = ['--app', app, '--capsule', capsule, '--db-url', db.url.connectionString()];
    const result = await runCli(['materialize-postgres', ...args, '--json', '--log-level', 'info']);
    expect(result.exitCode).toBe(0);
    const lines = result.stderr
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { msg: string; phase?: string; table?: string; rows?: unknown });
    expect(lines.some((line) => line.msg === 'connected')).toBe(true);
    const upserts = lines.filter((line) => line.phase === 'upsert').map((line) => [line.table, line.rows]);
    expect(upserts).toEqual(
      expect.arrayContaining([
        ['orders', 3],
        ['customers', 2],
        ['order_notes', 2],
      ]),
    );
    expect(lines.map((line) => line.phase)).toEqual(expect.arrayContaining(['delete', 'verify', 'commit']));
    expect(lines.at(-1)).toMatchObject({ phase: 'done', rows: { orders: 3, customers: 2, order_notes: 2 } });
    expectNoPassword(result.stdout, result.stderr);
  });

  dbTest("takes the replay URL from the manifest's env var and prints a readable summary", async ({ db }) => {
    await db.query(schemaSql);
    const result = await runCli(
      [
        'materialize-postgres',
        '--app',
        app,
        '--capsule',
        capsule,
        '--use-local-subject',
        '--load-strategy',
        'jsonb',
      ],
      {
        env: { SHOP_REPLAY_DATABASE_URL: db.url.connectionString() },
      },
    );
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`into ${db.url.identity()} (jsonb,`);
    expect(result.stdout).toContain('subject: shop_id=dev-shop,customer_id=dev-customer');
    expect(result.stdout).toMatch(/^customers +2 +0 +2$/m);
    expect(result.stdout).toContain('verified: yes');
    expect(await db.query("select customer_id from customers where shop_id = 'dev-shop' order by 1")).toEqual(
      [{ customer_id: 'c2' }, { customer_id: 'dev-customer' }],
    );
    expectNoPassword(result.stdout, result.stderr);
  });

  dbTest('--dry-run-sql prints the SQL without connecting; --explain changes nothing', async ({ db }) => {
    const dry = await runCli([
      'materialize-postgres',
      '--app',
      app,
      '--capsule',
      capsule,
      '--dry-run-sql',
      '--db-url',
      'postgres://u:p@127.0.0.1:1/none',
    ]);
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toContain('/* tables[order_notes] delete */ delete from "order_notes" as t');
    expect(dry.stdout).toContain('/* tables[order_notes].deletePredicate */ exists (select 1 from orders o');
    expect(dry.stdout).toContain(
      `copy "replay_stage_0" (doc) from stdin with (format csv, delimiter e'\\x02', quote e'\\x01')`,
    );
    expect(dry.stdout.indexOf('tables[order_notes] delete')).toBeLessThan(
      dry.stdout.indexOf('tables[customers] delete'),
    );
    await db.query(schemaSql);
    await db.query(dataSql);
    const before = await dumpTables(db, tables);
    const target = { app, capsule, url: db.url.connectionString() };
    const explain = await runLoadCommand('materialize-postgres', target, ['--explain']);
    expect(explain.exitCode).toBe(0);
    expect(explain.stdout).toContain('-- tables[orders] upsert');
    expect(explain.stdout).toMatch(/Insert on orders/);
    expect(await dumpTables(db, tables)).toEqual(before);
  });

  dbTest.for([
    [
      'a capsule of another app',
      () => lineCapsuleText({ app: 'other', tables: {} }),
      [],
      6,
      /^error: capsule is for app other, manifest is for shop$/,
    ],
    [
      'a production-looking target',
      () => lineCapsuleText({ tables: {} }),
      ['--db-url', 'postgres://u:secret-pw@prod-db.internal/shop'],
      4,
      /^error: refusing to write to prod-db\.internal:5432\/shop: host "prod-db\.internal" looks like production$/,
    ],
    [
      'a constraint violation',
      () =>
        lineCapsuleText({
          tables: {
            order_notes: [
              {
                id: 9,
                order_id: 999,
                shop_id: 's1',
                author_customer_id: 'c1',
                body: 'x',
                created_at: '2026-01-01T00:00:00Z',
              },
            ],
          },
        }),
      [],
      3,
      /^error: materialize tables\[order_notes\] upsert .*violates foreign key constraint/,
    ],
  ] as const)(
    '%s → one line, the exit code of its kind, nothing changed',
    async ([name, text, args, exitCode, stderr], { db }) => {
      await db.query(schemaSql);
      await db.query(dataSql);
      const before = await dumpTables(db, tables);
      const path = await writeCapsuleFile(dir, `${name.replace(/\W+/g, '-')}.json`, text());
      const dbUrl = (args as readonly string[]).includes('--db-url')
        ? []
        : ['--db-url', db.url.connectionString()];
      const result = await runCli([
        'materialize-postgres',
        '--app',
        app,
        '--capsule',
        path,
        ...dbUrl,
        ...args,
      ]);
      expect(result.exitCode).toBe(exitCode);
      expect(result.stderr.split('\n')[0]).toMatch(stderr);
      expect(await dumpTables(db, tables)).toEqual(before);
      expectNoPassword(result.stdout, result.stderr);
      expect(result.stderr).not.toContain('secret-pw');
    },
  );

  dbTest('kill -9 of the CLI in the middle of a load leaves the database unchanged', async ({ db }) => {
    await db.query(schemaSql);
    await db.query(dataSql);
    const before = await dumpTables(db, tables);
    const orders = bulkOrders(400_000);
    const customers = [shopCustomer];
    const path = await writeCapsuleFile(dir, 'big.json', lineCapsuleText({ tables: { customers, orders } }));
    // Wait until the load is under way (its COPY or a later statement is running), then kill it.
    const killed = await killLoadWhile({ app, capsule: path, url: db.url.connectionString() }, '%copy%');
    expect(killed).toMatchObject({ seen: true, signal: 'SIGKILL' });
    expect(await dumpTables(db, tables)).toEqual(before);
  });

  // A load killed while it waits for another session's lock: nothing tells its backend, which would wait
  // (holding the load lock) until that session ends; it checks every second that its client is there.
  dbTest('kill -9 of a load waiting on a lock: its backend ends within seconds', async ({ db }) => {
    await db.query(schemaSql);
    const holder = new pg.Client({ connectionString: db.url.connectionString() });
    await holder.connect();
    try {
      await holder.query('begin; lock table orders in access exclusive mode');
      const killed = await killLoadWhile({ app, capsule, url: db.url.connectionString() }, '%orders%');
      expect(killed).toMatchObject({ seen: true, signal: 'SIGKILL' });
      // killLoadWhile waited up to 10 s for the backend to end; the holder still holds the lock.
      const loads = `select 1 from pg_stat_activity where datname = current_database()
        and application_name = 'replay-env materialize'`;
      expect(await db.query(loads)).toEqual([]);
    } finally {
      await holder.query('rollback').catch(() => {});
      await holder.end();
    }
  });
});
