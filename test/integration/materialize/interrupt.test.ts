import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import pg from 'pg';
import { expect } from 'vitest';

import { loadManifest } from '../../../src/manifest/index.js';
import { materialize, MaterializeInterrupted } from '../../../src/services/materialize.js';
import { bulkOrders, lineCapsuleText, shopCustomer, writeCapsuleFile } from '../../setup/capsules.js';
import { repoRoot } from '../../setup/cli.js';
import { dbTest } from '../../setup/database.js';
import { useTempDir } from '../../setup/temp-dir.js';

let dir: string;
useTempDir('materialize-interrupt-', (path) => (dir = path));
const original = (name: string) => join(repoRoot, 'test/fixtures/original-tool', name);

// `run`'s Ctrl-C during the load: another session holds orders, so the load waits on its lock for as long
// as the test wants; the abort must end it at once (a CancelRequest), and nothing of it may be committed.
dbTest(
  'an abort stops a waiting load at once; nothing is committed and the next load runs',
  async ({ db }) => {
    const manifest = await loadManifest(original('manifest.json'));
    await db.query(await readFile(original('schema.sql'), 'utf8'));
    const capsulePath = await writeCapsuleFile(
      dir,
      'c.json',
      lineCapsuleText({ tables: { customers: [shopCustomer], orders: bulkOrders(500), order_notes: [] } }),
    );
    const holder = new pg.Client({ connectionString: db.url.connectionString() });
    await holder.connect();
    const waiting = () =>
      db.query(
        `select pid from pg_stat_activity where application_name = 'replay-env materialize' and wait_event_type = 'Lock'`,
      );
    try {
      await holder.query('begin; lock table orders in access exclusive mode');
      const controller = new AbortController();
      const loading = materialize({ manifest, capsulePath, databaseUrl: db.url, signal: controller.signal });
      loading.catch(() => {});
      for (let i = 0; i < 200 && (await waiting()).length === 0; i++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await waiting()).toHaveLength(1);
      const aborted = performance.now();
      controller.abort('SIGINT');
      const error = await loading.then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expect(error).toBeInstanceOf(MaterializeInterrupted);
      expect(error).toMatchObject({ exitCode: 130, message: 'interrupted; the load was rolled back' });
      expect(performance.now() - aborted).toBeLessThan(10_000);
      for (let i = 0; i < 100 && (await waiting()).length > 0; i++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await waiting()).toEqual([]);
    } finally {
      await holder.query('rollback').catch(() => {});
      await holder.end();
    }
    expect(await db.query('select count(*)::int as n from customers')).toEqual([{ n: 0 }]);
    expect(await db.query('select count(*)::int as n from orders')).toEqual([{ n: 0 }]);
    const result = await materialize({ manifest, capsulePath, databaseUrl: db.url });
    expect(result.verified).toBe(true);
    expect(await db.query('select count(*)::int as n from orders')).toEqual([{ n: 500 }]);
  },
);
