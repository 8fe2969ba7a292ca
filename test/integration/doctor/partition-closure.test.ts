import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect } from 'vitest';

import { loadManifest } from '../../../src/manifest/index.js';
import { exportCapsule } from '../../../src/services/export.js';
import { initManifest } from '../../../src/services/init.js';
import { capsuleDir } from '../../setup/capsules.js';
import { repoRoot } from '../../setup/cli.js';
import { dbTest } from '../../setup/database.js';
import { loadPagilaData, loadPagilaSchema } from '../../setup/pagila.js';
import { doctor, lines, loadSql, writeCapsule } from './helpers.js';

/**
 * issue #14 item 5: doctor --capsule's referential closure through partitioned tables — a foreign key
 * declared on a partitioned table (cloned onto its partitions), declared on each partition only (as
 * Pagila's dump does), and one referencing a partitioned table (rows live in its partitions).
 */
describe('doctor --capsule: closure through partitions', () => {
  dbTest(
    'foreign keys on and to a partitioned table: dangling references counted, resolved ones pass',
    async ({ db }) => {
      await loadSql(db, 'test/fixtures/fidelity/schema.sql');
      await db.query(`create table refund (refund_id integer primary key, payment_date timestamptz not null,
      payment_id integer not null, foreign key (payment_date, payment_id) references payment)`);
      const dir = await capsuleDir();
      const manifest = join(dir, 'manifest.yaml');
      const text = await readFile(join(repoRoot, 'test/fixtures/fidelity/manifest.yaml'), 'utf8');
      await writeFile(
        manifest,
        `${text.replace('tableOrder: [customer, film, payment]', 'tableOrder: [customer, film, payment, refund]')}    - name: refund\n      alias: r\n      deletePredicate: exists (select 1 from payment p where (p.payment_date, p.payment_id) = (t.payment_date, t.payment_id) and p.customer_id = g.customer_id::int)\n`,
      );
      const customer = {
        customer_id: 1,
        first_name: 'Mary',
        email: null,
        active: true,
        last_update: '2020-02-15T09:57:20+00:00',
      };
      const film = (id: number) => ({
        film_id: id,
        customer_id: 1,
        title: `Film ${id}`,
        fulltext: "'film':1",
      });
      const payment = (id: number, customerId: number, date: string) => ({
        payment_id: id,
        customer_id: customerId,
        film_id: 1,
        amount: 1.5,
        payment_date: date,
      });
      const capsule = await writeCapsule(
        {
          customer: [customer],
          film: [film(1)],
          payment: [
            payment(1, 1, '2024-01-05T00:00:00+00:00'),
            payment(2, 7, '2024-02-05T00:00:00+00:00'),
            payment(3, 7, '2024-02-06T00:00:00+00:00'),
          ],
          refund: [
            { refund_id: 1, payment_date: '2024-01-05T00:00:00+00:00', payment_id: 1 },
            { refund_id: 2, payment_date: '2024-02-10T00:00:00+00:00', payment_id: 99 },
            { refund_id: 3, payment_date: '2024-02-10T00:00:00+00:00', payment_id: 99 },
          ],
        },
        'fidelity',
        { customer_id: '1' },
      );
      const result = await doctor(manifest, db, { capsule });
      expect(lines(result, 'fail')).toEqual([
        'capsule references payment_customer_id_fkey: 2 payment row(s) reference 1 customer(customer_id) key(s) neither in the capsule nor in the replay database: (7) ×2',
        'capsule references refund_payment_date_payment_id_fkey: 2 refund row(s) reference 1 payment(payment_date, payment_id) key(s) neither in the capsule nor in the replay database: (2024-02-10T00:00:00+00:00, 99) ×2',
      ]);
      expect(result.ok).toBe(false);

      // Parents already in the replay database resolve them; the payment lands in a partition.
      await db.query(`insert into customer (customer_id, first_name) values (7, 'Seven')`);
      await db.query(`insert into film (film_id, customer_id, title) values (50, 7, 'Other')`);
      await db.query(`insert into payment (payment_id, customer_id, film_id, amount, payment_date)
      values (99, 7, 50, 1, '2024-02-10T00:00:00+00:00')`);
      expect(
        await db.query(`select tableoid::regclass::text as t from payment where payment_id = 99`),
      ).toEqual([{ t: 'payment_p2024_02' }]);
      const after = await doctor(manifest, db, { capsule });
      expect(lines(after, 'fail')).toEqual([]);
      expect(lines(after, 'pass').filter((line) => line.startsWith('capsule references'))).toEqual([
        'capsule references: 4 foreign key(s) checked: every reference resolves (4 key(s) in the capsule, 2 in the replay database)',
      ]);
    },
  );

  dbTest(
    "Pagila: payment's per-partition foreign keys, a capsule missing the rentals fails, a closed one passes",
    async ({ db }) => {
      await loadPagilaSchema(db);
      await loadPagilaData(db);
      const replay = await db.sibling();
      await loadPagilaSchema(replay);
      const dir = await capsuleDir();
      const path = join(dir, 'pagila.yaml');
      await initManifest({ dbUrl: db.url.connectionString(), subjectTable: 'customer', out: path });
      const manifest = await loadManifest(path);
      const closed = join(dir, 'closed.json');
      const options = {
        subject: { customer_id: '3' },
        databaseUrl: db.url,
        sinceDays: 36500,
        redaction: 'raw' as const,
      };
      await exportCapsule({ ...options, manifest, out: closed });
      const checked = await doctor(path, replay, { capsule: closed });
      expect(lines(checked, 'fail')).toEqual([]);
      expect(lines(checked, 'pass')).toContainEqual(
        expect.stringMatching(/^capsule references: \d+ foreign key\(s\) checked: every reference resolves/),
      );

      // The same export without rental: every payment of customer 3 points at a rental nowhere to be found.
      const withoutRental = {
        ...manifest,
        postgres: {
          ...manifest.postgres,
          tableOrder: manifest.postgres.tableOrder.filter((name) => name !== 'rental'),
          tables: manifest.postgres.tables.filter((table) => table.name !== 'rental'),
        },
      };
      const open = join(dir, 'open.json');
      await exportCapsule({ ...options, manifest: withoutRental, out: open });
      const [expected] = await db.query<{ rows: number; keys: number }>(
        `select count(*)::int as rows, count(distinct rental_id)::int as keys from payment where customer_id = 3 and rental_id is not null`,
      );
      const failed = lines(await doctor(path, replay, { capsule: open }), 'fail');
      expect(failed).toEqual([
        expect.stringMatching(
          new RegExp(
            `^capsule references payment_\\w+_rental_id_fkey: ${expected!.rows} payment row\\(s\\) reference ${expected!.keys} rental\\(rental_id\\) key\\(s\\) neither in the capsule nor in the replay database: \\(\\d+\\)`,
          ),
        ),
      ]);
    },
  );
});
