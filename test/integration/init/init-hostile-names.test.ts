import { describe, expect } from 'vitest';

import { initManifest } from '../../../src/services/init.js';
import { dbTest } from '../../setup/database.js';

describe('init on a catalog with names that need quoting', () => {
  dbTest('reserved words and capitals: sample counts run, and the draft warns', async ({ db }) => {
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
    expect(result.reasoning.tables.find((t) => t.name === 'Items')?.sampleRows).toBe(1);
    expect(result.manifest.appId).toBe(db.name);
    for (const name of ['order', 'Items', 'user'])
      expect(result.reasoning.warnings.join('\n')).toContain(`table "${name}" needs quoting`);
    expect(result.reasoning.warnings.join('\n')).not.toContain('table "customers"');
  });
});
