import { describe, expect } from 'vitest';

import { initManifest } from '../../../src/services/init.js';
import { dbTest } from '../../setup/database.js';

describe('init on a catalog with names that need quoting', () => {
  dbTest(
    'reserved words and capitals: sample counts run, and the draft names them by the manifest rule',
    async ({ db }) => {
      await db.query(`
      create table customers (id int primary key);
      create table "order" (id int primary key, customer_id int references customers);
      create table "Items" (id int primary key, order_id int references "order");
      create table "user" (id int primary key);
      create table tickets (id int primary key, customer_id int references customers, assignee int references "user");
      create table "evil
appId: pwned" (id int);
      insert into customers values (1); insert into "order" values (10, 1); insert into "Items" values (100, 10);`);
      const result = await initManifest({
        dbUrl: db.url.connectionString(),
        subjectTable: 'customers',
        sampleSubject: ['customer_id=1'],
      });
      // Capitals are quoted in the manifest; a keyword is a name as it stands (postgres/identifiers.ts).
      expect(result.reasoning.tables.find((t) => t.name === '"Items"')?.sampleRows).toBe(1);
      const names = (result.manifest.postgres as { tables: Array<{ name: string }> }).tables.map(
        (t) => t.name,
      );
      expect(names).toEqual(expect.arrayContaining(['customers', 'order', '"Items"', 'user', 'tickets']));
      expect(result.manifest.appId).toBe(db.name);
      expect(result.reasoning.warnings.join('\n')).not.toMatch(/cannot be named|needs quoting/);
    },
  );
});
