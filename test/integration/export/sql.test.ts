import pg from 'pg';
import { describe, expect } from 'vitest';

import {
  buildGraphQuery,
  buildSessionSettings,
  buildTableCopy,
  buildTableQuery,
} from '../../../src/graph/export-sql.js';
import { dbTest } from '../../setup/database.js';
import { loadShop } from './helpers.js';

describe('export SQL builders against a real server', () => {
  dbTest(
    'the graph query dedupes keys, sorts reasons and keys, drops null/empty keys (as the original)',
    async ({ db }) => {
      const manifest = await loadShop(db);
      // Extra edges: a duplicate reason, a reason for the subject itself, and a null key (dropped).
      const edges = [
        ...manifest.postgres.graphEdges,
        ...manifest.postgres.graphEdges,
        `select 's1' as shop_id, 'c1' as customer_id, 'self_edge' as reason`,
        `select 's1' as shop_id, null as customer_id, 'nobody' as reason`,
        `select 's1' as shop_id, '' as customer_id, 'empty key' as reason`,
        // Columns are taken by position, as the original's union all did: names do not matter.
        `select 's1' as a, 'c2' as b, 'positional' as c`,
        `select c.shop_id, c.customer_id, 'a_same_shop' as reason from customers c, params seed where c.shop_id = seed.shop_id`,
      ];
      const query = buildGraphQuery(
        { ...manifest, postgres: { ...manifest.postgres, graphEdges: edges } },
        { shop_id: 's1', customer_id: 'c1' },
        30,
      );
      const rows = await db.query(query.text, query.values);
      expect(rows.map(({ shop_id, customer_id, reasons }) => ({ shop_id, customer_id, reasons }))).toEqual([
        { shop_id: 's1', customer_id: 'c1', reasons: ['a_same_shop', 'self_edge', 'subject'] },
        { shop_id: 's1', customer_id: 'c2', reasons: ['a_same_shop', 'note_author', 'positional'] },
        { shop_id: 's1', customer_id: 'c3', reasons: ['a_same_shop'] },
      ]);
      const since = Date.parse(rows[0]!.since_at as string);
      const exported = Date.parse(rows[0]!.exported_at as string);
      expect(Math.round((exported - since) / 86_400_000)).toBe(30);
    },
  );

  dbTest('a subject value full of SQL is only ever data', async ({ db }) => {
    const manifest = await loadShop(db);
    const hostile = `s1' or '1'='1`;
    const query = buildGraphQuery(manifest, { shop_id: hostile, customer_id: 'c1' }, 30);
    const rows = await db.query(query.text, query.values);
    expect(rows.map((row) => [row.shop_id, row.reasons])).toEqual([[hostile, ['subject']]]);
  });

  dbTest(
    'a table SELECT runs standalone after set_config (as doctor does with stub keys)',
    async ({ db }) => {
      const manifest = await loadShop(db);
      const client = new pg.Client({ connectionString: db.url.connectionString() });
      await client.connect();
      try {
        await client.query('begin isolation level repeatable read, read only');
        const settings = buildSessionSettings(
          { shop_id: 's1', customer_id: 'c1', since_at: '2000-01-01T00:00:00+00:00' },
          [{ shop_id: 's1', customer_id: 'c2' }],
        );
        await client.query(settings.text, settings.values);
        const orders = manifest.postgres.tables.find((table) => table.name === 'orders')!;
        const { rows } = await client.query<{ text: string }>(buildTableQuery(manifest, orders).text);
        expect(rows.map((row) => JSON.parse(Object.values(row)[0] as string).id)).toEqual([3]);
        const plan = await client.query(`explain ${buildTableQuery(manifest, orders).text}`);
        expect(plan.rows.length).toBeGreaterThan(0);
        // The COPY form is accepted too (read-only transactions allow COPY TO).
        await client.query(buildTableCopy(manifest, orders).text);
        await client.query('rollback');
        // Settings are local to the transaction: gone afterwards.
        const after = await client.query(`select current_setting('replay.graph_keys', true) as v`);
        expect(after.rows[0].v ?? '').toBe('');
      } finally {
        await client.end();
      }
    },
  );
});
