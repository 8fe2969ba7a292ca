import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { beforeAll, describe, expect } from 'vitest';

import type { ParsedManifest } from '../../../src/manifest/index.js';
import { materialize } from '../../../src/services/materialize.js';
import { dumpTables } from '../../setup/capsules.js';
import { repoRoot } from '../../setup/cli.js';
import { dbTest } from '../../setup/database.js';
import { originalToolFiles } from '../../setup/governance.js';

const fixture = (name: string) => join(repoRoot, 'test/fixtures/original-tool', name);
const tables = ['customers', 'orders', 'order_notes'];
let manifest: ParsedManifest;
let schemaSql: string;
let dataSql: string;
let original: { tables: Record<string, Record<string, unknown>[]> };

beforeAll(async () => {
  ({ manifest, schemaSql, dataSql } = await originalToolFiles());
  original = JSON.parse(await readFile(fixture('capsule.json'), 'utf8')) as typeof original;
});

/** Rows compared as JSON values: numeric 19.90 (to_jsonb) and 19.9 (the original's capsule) are equal. */
function sortRows(rows: unknown[]): unknown[] {
  return [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

describe.each(['copy', 'jsonb'] as const)("the original tool's capsule (%s)", (loadStrategy) => {
  dbTest('loads unchanged into an empty schema.sql database, every row equal', async ({ db }) => {
    await db.query(schemaSql);
    const result = await materialize({
      manifest,
      capsulePath: fixture('capsule.json'),
      databaseUrl: db.url,
      loadStrategy,
    });
    expect(result).toMatchObject({
      rowCounts: { orders: 3, customers: 2, order_notes: 2 },
      loaded: { orders: 3, customers: 2, order_notes: 2 },
      verified: true,
      integrity: 'counts-only',
    });
    const loaded = await dumpTables(db, tables);
    for (const table of tables) {
      expect(sortRows(loaded[table]!)).toEqual(sortRows(original.tables[table]!));
    }
    const [order] = await db.query<{ total: string }>('select total::text from orders where id = 1');
    expect(order!.total).toBe('19.90');
  });

  dbTest(
    '--use-local-subject removes the original graph rows, keeps other shops, and reloads to one copy',
    async ({ db }) => {
      await db.query(schemaSql);
      await db.query(dataSql);
      const otherShop = async () =>
        dumpTables(
          {
            query: (sql, values) =>
              db.query(sql.replace(/ t order by/, " t where t.shop_id = 's2' order by"), values),
          },
          tables,
        );
      const before = await otherShop();
      const options = { manifest, capsulePath: fixture('capsule.json'), databaseUrl: db.url, loadStrategy };
      await materialize(options);
      const rewritten = await materialize({ ...options, useLocalSubject: true });
      expect(rewritten.subject).toEqual({ shop_id: 'dev-shop', customer_id: 'dev-customer' });
      const once = await dumpTables(db, tables);
      await materialize({ ...options, useLocalSubject: true });
      expect(await dumpTables(db, tables)).toEqual(once);
      const customers = await db.query<{ shop_id: string; customer_id: string }>(
        'select shop_id, customer_id from customers order by 1, 2',
      );
      // c3 was in s1 but not in the graph: untouched. c1/c2 of s1 were the graph: gone.
      expect(customers).toEqual([
        { shop_id: 'dev-shop', customer_id: 'c2' },
        { shop_id: 'dev-shop', customer_id: 'dev-customer' },
        { shop_id: 's1', customer_id: 'c3' },
        { shop_id: 's2', customer_id: 'c1' },
      ]);
      const notes = await db.query<{ author_customer_id: string }>(
        "select author_customer_id from order_notes where shop_id = 'dev-shop' order by id",
      );
      expect(notes).toEqual([{ author_customer_id: 'c2' }, { author_customer_id: 'dev-customer' }]);
      expect(await otherShop()).toEqual(before);
    },
  );
});
