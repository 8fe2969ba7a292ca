import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { beforeAll, describe, expect } from 'vitest';

import {
  bulkOrders,
  capsuleDir,
  dumpTables,
  lineCapsuleText,
  shopCustomer,
  writeCapsuleFile,
} from '../setup/capsules.js';
import { repoRoot } from '../setup/cli.js';
import { dbTest } from '../setup/database.js';
import { foreignKeyCatalog, indexCatalog } from '../setup/index-catalog.js';
import { killLoadWhile } from '../setup/load-command.js';

// kill -9 of the CLI while a table's secondary indexes and foreign keys are dropped for its COPY
// (src/materialize/deferred-indexes.ts, deferred-foreign-keys.ts), while the indexes are being built
// again, or while the keys are added again: the server rolls the transaction back, and the catalog is
// exactly as before, every index and key with its old oid.
const fixture = (name: string) => join(repoRoot, 'test/fixtures/original-tool', name);
const app = fixture('manifest.json');
const tables = ['customers', 'orders', 'order_notes'];
const orderIndexes = `
  create index orders_customer_idx on orders (shop_id, customer_id);
  create index orders_placed_idx on orders (placed_at desc);
  create index orders_total_idx on orders (total, id);
  create index orders_items_idx on orders using gin (items);
  create index orders_tags_idx on orders using gin (tags);
`;
let schemaSql: string;
let capsule: string;

beforeAll(async () => {
  schemaSql = await readFile(fixture('schema.sql'), 'utf8');
  const orders = bulkOrders(200_000);
  const customers = [shopCustomer];
  capsule = await writeCapsuleFile(
    await capsuleDir(),
    'big.json',
    lineCapsuleText({ tables: { customers, orders, order_notes: [] } }),
  );
});

describe('kill -9 of the CLI with secondary indexes dropped for the load', () => {
  dbTest.for([
    ['in the COPY (the indexes are dropped)', '/* tables[orders] copy */%'],
    ['while the indexes are built again', '/* tables[orders] indexes */ CREATE INDEX%'],
    [
      'while the foreign keys are added again',
      '/* tables[orders] foreign keys */ alter table % add constraint%',
    ],
    // Ctrl-C and SIGTERM: the CLI cancels the statement, ends the connection and exits 130 / 143.
    [
      'SIGINT while the foreign keys are added again',
      '/* tables[orders] foreign keys */ alter table % add constraint%',
      'SIGINT',
    ],
    ['SIGTERM in the COPY', '/* tables[orders] copy */%', 'SIGTERM'],
    ['SIGINT while the indexes are built again', '/* tables[orders] indexes */ CREATE INDEX%', 'SIGINT'],
  ] as const)('%s: the catalog and the rows are as before', async ([, running, signal], { db }) => {
    await db.query(schemaSql);
    await db.query(orderIndexes);
    const before = await indexCatalog(db);
    const keysBefore = await foreignKeyCatalog(db);
    const rows = await dumpTables(db, tables);
    const killed = await killLoadWhile({ app, capsule, url: db.url.connectionString() }, running, signal);
    if (signal === undefined) expect(killed).toMatchObject({ seen: true, signal: 'SIGKILL' });
    else {
      expect(killed).toMatchObject({
        seen: true,
        signal: undefined,
        exitCode: signal === 'SIGINT' ? 130 : 143,
      });
      expect(killed.stderr.trim()).toBe('error: interrupted; the load was rolled back');
      // The statement was cancelled, not left running: the next load is not refused as in progress.
      const loads = `select 1 from pg_stat_activity where datname = current_database()
        and application_name = 'replay-env materialize'`;
      expect(await db.query(loads)).toEqual([]);
    }
    expect(await indexCatalog(db)).toEqual(before);
    expect(await foreignKeyCatalog(db)).toEqual(keysBefore);
    expect(await dumpTables(db, tables)).toEqual(rows);
  });
});
