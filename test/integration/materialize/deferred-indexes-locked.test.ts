import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import pg from 'pg';
import { expect } from 'vitest';

import { loadManifest } from '../../../src/manifest/index.js';
import { DatabaseUrl } from '../../../src/postgres/database-url.js';
import { materialize } from '../../../src/services/materialize.js';
import { bulkOrders, lineCapsuleText, shopCustomer, writeCapsuleFile } from '../../setup/capsules.js';
import { repoRoot } from '../../setup/cli.js';
import { dbTest } from '../../setup/database.js';
import { indexCatalog, rebuilt } from '../../setup/index-catalog.js';
import { useTempDir } from '../../setup/temp-dir.js';

let dir: string;
useTempDir('deferred-indexes-locked-', (path) => (dir = path));
const original = (name: string) => join(repoRoot, 'test/fixtures/original-tool', name);

// Another session inside a transaction that read orders (ACCESS SHARE: every reader holds it until it
// commits) when the load reaches orders: dropping orders' indexes would wait for that session (a COPY does
// not), so the load must neither wait nor fail: it keeps the indexes, loads and commits while the other
// session is still open.
dbTest(
  'a table another session holds keeps its indexes; the load neither waits nor fails',
  async ({ db }) => {
    const manifest = await loadManifest(original('manifest.json'));
    await db.query(await readFile(original('schema.sql'), 'utf8'));
    await db.query('create index orders_customer_idx on orders (shop_id, customer_id)');
    const before = await indexCatalog(db);
    const capsulePath = await writeCapsuleFile(
      dir,
      'c.json',
      lineCapsuleText({ tables: { customers: [shopCustomer], orders: bulkOrders(500), order_notes: [] } }),
    );
    const reader = new pg.Client({ connectionString: db.url.connectionString() });
    await reader.connect();
    try {
      await reader.query('begin; select count(*) from orders');
      // lock_timeout: a load that waited for the reader fails rather than hanging the test.
      const url = new URL(db.url.connectionString());
      url.search = '?options=-c%20lock_timeout%3D5000';
      const result = await materialize({
        manifest,
        capsulePath,
        databaseUrl: DatabaseUrl.parse(url.toString()),
      });
      expect(result.verified).toBe(true);
      expect(result.directCopy).toContain('orders');
      const after = await indexCatalog(db);
      expect(after.indexes).toEqual(before.indexes);
      // orders' index was kept (the reader holds orders), customers' were rebuilt as usual.
      expect(rebuilt(before.oids, after.oids).filter((name) => name.startsWith('orders'))).toEqual([]);
      const [row] = (await reader.query<{ n: string }>('select count(*) as n from orders')).rows;
      expect(row!.n).toBe('500'); // committed while the reader's transaction is still open
    } finally {
      await reader.query('rollback').catch(() => {});
      await reader.end();
    }
  },
);
