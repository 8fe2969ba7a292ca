import { describe, expect } from 'vitest';

import { dbTest } from '../../setup/database.js';
import { doctor, lines, loadSql, shopManifest, shopSchema, writeCapsule } from './helpers.js';

const customer = (id: string) => ({ shop_id: 's1', customer_id: id, name: `name ${id}` });
const order = (id: number | string, customerId: string) => ({
  id,
  shop_id: 's1',
  customer_id: customerId,
  items: [],
  total: 1.5,
  placed_at: '2026-01-05T10:00:00+00:00',
});
const note = (id: number, orderId: number | string) => ({
  id,
  order_id: orderId,
  shop_id: 's1',
  author_customer_id: 'c1',
  body: 'hi',
  created_at: '2026-01-05T10:00:00+00:00',
});

describe('doctor --capsule', () => {
  dbTest('the original tool capsule is closed and fits its schema', async ({ db }) => {
    await loadSql(db, shopSchema);
    const result = await doctor(shopManifest, db, { capsule: 'test/fixtures/original-tool/capsule.json' });
    expect(lines(result, 'fail')).toEqual([]);
    expect(lines(result, 'pass')).toEqual(
      expect.arrayContaining([
        'capsule app: shop, as the manifest',
        'capsule columns: every capsule column exists in the replay database',
        expect.stringMatching(
          /^capsule references: 2 foreign key\(s\) checked: every reference resolves \(\d+ key\(s\) in the capsule, 0 in the replay database\)$/,
        ),
        expect.stringMatching(/^capsule integrity: counts-only: \d+ row\(s\) in 3 table\(s\)$/),
      ]),
    );
  });

  dbTest(
    'rows pointing at parents neither in the capsule nor in the database are listed per constraint',
    async ({ db }) => {
      await loadSql(db, shopSchema);
      const capsule = await writeCapsule({
        customers: [customer('c1')],
        orders: [order(1, 'c1'), order(2, 'c9'), order(3, 'c9'), order(4, 'c8')],
        order_notes: [note(1, 1), note(2, 7)],
      });
      const result = await doctor(shopManifest, db, { capsule });
      expect(lines(result, 'fail')).toEqual([
        'capsule references orders_shop_id_customer_id_fkey: 3 orders row(s) reference 2 customers(shop_id, customer_id) key(s) neither in the capsule nor in the replay database: (s1, c9) ×2, (s1, c8)',
        'capsule references order_notes_order_id_fkey: 1 order_notes row(s) reference 1 orders(id) key(s) neither in the capsule nor in the replay database: (7)',
      ]);
      expect(result.ok).toBe(false);

      // A parent already in the replay database resolves the reference.
      await db.query(
        `insert into customers (shop_id, customer_id, name) values ('s1', 'c9', 'Nine'), ('s1', 'c8', 'Eight')`,
      );
      await db.query(
        `insert into orders (id, shop_id, customer_id, items, total, placed_at) values (7, 's1', 'c8', '[]', 1, now())`,
      );
      const after = await doctor(shopManifest, db, { capsule });
      expect(lines(after, 'fail')).toEqual([]);
      expect(lines(after, 'pass')).toContain(
        'capsule references: 2 foreign key(s) checked: every reference resolves (2 key(s) in the capsule, 3 in the replay database)',
      );
    },
  );

  dbTest('lists the first 5 dangling references and how many more', async ({ db }) => {
    await loadSql(db, shopSchema);
    const orders = Array.from({ length: 8 }, (_, i) => order(i + 1, `x${i + 1}`));
    const result = await doctor(shopManifest, db, { capsule: await writeCapsule({ customers: [], orders }) });
    expect(lines(result, 'fail')).toEqual([
      'capsule references orders_shop_id_customer_id_fkey: 8 orders row(s) reference 8 customers(shop_id, customer_id) key(s) neither in the capsule nor in the replay database: (s1, x1), (s1, x2), (s1, x3), (s1, x4), (s1, x5), … 3 more',
    ]);
  });

  dbTest('big integer keys are compared exactly, in the capsule and in the database', async ({ db }) => {
    await loadSql(db, shopSchema);
    await db.query(`insert into customers (shop_id, customer_id, name) values ('s1', 'c1', 'Ada')`);
    await db.query(
      `insert into orders (id, shop_id, customer_id, items, total, placed_at) values (9007199254740993, 's1', 'c1', '[]', 1, now())`,
    );
    // 9007199254740993 is not a float64: a lossy parse would read 9007199254740992 and miss both parents.
    const raw = (text: string) => text.replace(/"(9007199254740\d{3})"/g, '$1');
    const capsule = await writeCapsule({
      customers: [customer('c1')],
      orders: [order('9007199254740995', 'c1')],
      order_notes: [note(1, '9007199254740993'), note(2, '9007199254740995'), note(3, '9007199254740994')],
    });
    const { readFile, writeFile } = await import('node:fs/promises');
    await writeFile(capsule, raw(await readFile(capsule, 'utf8')));
    const result = await doctor(shopManifest, db, { capsule });
    expect(lines(result, 'fail')).toEqual([
      'capsule references order_notes_order_id_fkey: 1 order_notes row(s) reference 1 orders(id) key(s) neither in the capsule nor in the replay database: (9007199254740994)',
    ]);
  });

  dbTest('a capsule of another app fails', async ({ db }) => {
    await loadSql(db, shopSchema);
    const result = await doctor(shopManifest, db, { capsule: await writeCapsule({ customers: [] }, 'crm') });
    expect(lines(result, 'fail')).toEqual(['capsule app: capsule is of app "crm", the manifest is "shop"']);
  });

  dbTest(
    'capsule columns the replay database lacks, and required columns the capsule lacks, fail',
    async ({ db }) => {
      await loadSql(db, shopSchema);
      await db.query('alter table customers add column tier text not null');
      const capsule = await writeCapsule({ customers: [{ ...customer('c1'), nickname: 'A', legacy_id: 3 }] });
      const result = await doctor(shopManifest, db, { capsule });
      expect(lines(result, 'fail')).toEqual([
        "capsule table customers: column(s) legacy_id, nickname are in the capsule but not in the replay database's customers",
        "capsule table customers: the replay database's customers requires column(s) tier (NOT NULL, no default) that the capsule rows lack",
      ]);
    },
  );

  dbTest('an unreadable or corrupt capsule is a fail line', async ({ db }) => {
    await loadSql(db, shopSchema);
    const result = await doctor(shopManifest, db, { capsule: 'test/fixtures/does-not-exist.json' });
    expect(lines(result, 'fail')).toEqual([expect.stringMatching(/^capsule: .*does-not-exist\.json/)]);
  });

  dbTest('without a database, the capsule is still checked for app and integrity', async () => {
    const result = await doctor(shopManifest, undefined, {
      capsule: 'test/fixtures/original-tool/capsule.json',
    });
    expect(lines(result, 'fail')).toEqual([]);
    expect(lines(result, 'warn')).toContain(
      'capsule references: not checked: foreign keys and existing rows come from the replay database (pass --db-url)',
    );
  });
});
