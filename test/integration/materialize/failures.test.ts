import { beforeAll, describe, expect } from 'vitest';

import { CapsuleError, DatabaseError, UnsafeTargetError } from '../../../src/errors.js';
import type { ParsedManifest } from '../../../src/manifest/index.js';
import { DatabaseUrl } from '../../../src/postgres/database-url.js';
import { materialize } from '../../../src/services/materialize.js';
import {
  capsuleDir,
  dumpTables,
  lineCapsuleText,
  shopCustomer,
  shopOrder,
  type TestCapsule,
  writeCapsuleFile,
} from '../../setup/capsules.js';
import { dbTest } from '../../setup/database.js';
import { originalToolFiles } from '../../setup/governance.js';

const tables = ['customers', 'orders', 'order_notes'];
let manifest: ParsedManifest;
let schemaSql: string;
let dataSql: string;
let dir: string;

beforeAll(async () => {
  ({ manifest, schemaSql, dataSql } = await originalToolFiles());
  dir = await capsuleDir();
});

const customer = shopCustomer;
const order = shopOrder;
const note = {
  id: 1,
  order_id: 1,
  shop_id: 's1',
  author_customer_id: 'c1',
  body: 'b',
  created_at: '2026-01-05T12:00:00+00:00',
};
const valid: TestCapsule = {
  graph: [{ shop_id: 's1', customer_id: 'c1', reasons: ['subject'] }],
  tables: { customers: [customer], orders: [order], order_notes: [note] },
};

const cases: {
  name: string;
  capsule: () => string;
  error: typeof CapsuleError | typeof DatabaseError;
  message: RegExp;
}[] = [
  {
    name: 'a constraint violation in the last table',
    capsule: () =>
      lineCapsuleText({ ...valid, tables: { ...valid.tables, order_notes: [{ ...note, order_id: 999 }] } }),
    error: DatabaseError,
    message:
      /^materialize tables\[order_notes\] upsert \(.*\): insert or update on table "order_notes" violates foreign key constraint/,
  },
  {
    name: 'a truncated capsule',
    capsule: () => {
      const text = lineCapsuleText(valid);
      return text.slice(0, text.indexOf('"order_notes"') + 40);
    },
    error: CapsuleError,
    message: /is corrupt at line \d+|truncated/,
  },
  {
    name: 'a capsule whose integrity check fails',
    capsule: () => lineCapsuleText(valid).replace('"body":"b"', '"body":"B"'),
    error: CapsuleError,
    message: /failed its integrity check: table "order_notes"/,
  },
  {
    name: 'a capsule of another app',
    capsule: () => lineCapsuleText({ ...valid, app: 'other' }),
    error: CapsuleError,
    message: /^capsule is for app other, manifest is for shop$/,
  },
  {
    name: 'a capsule with other subject keys',
    capsule: () => lineCapsuleText({ ...valid, subject: { tenant_id: 't1' } }),
    error: CapsuleError,
    message: /capsule subject keys \(tenant_id\) do not match the manifest's \(customer_id, shop_id\)/,
  },
  {
    name: 'a table the manifest does not declare',
    capsule: () => lineCapsuleText({ ...valid, tables: { ...valid.tables, refunds: [{ id: 1 }] } }),
    error: CapsuleError,
    message: /capsule table "refunds" is not declared in the manifest/,
  },
  {
    name: 'a column the replay table does not have',
    capsule: () =>
      lineCapsuleText({ ...valid, tables: { ...valid.tables, orders: [{ ...order, coupon: 'x' }] } }),
    error: DatabaseError,
    message: /tables\[orders\]: the capsule has column\(s\) coupon that the replay table does not/,
  },
  {
    name: 'a NOT NULL column without default missing from the capsule',
    capsule: () => {
      const { body: _body, ...withoutBody } = note;
      return lineCapsuleText({ ...valid, tables: { ...valid.tables, order_notes: [withoutBody] } });
    },
    error: DatabaseError,
    message: /tables\[order_notes\]: NOT NULL column\(s\) body have no default and are not in the capsule/,
  },
];

describe('a failed materialize leaves the replay database exactly as it was', () => {
  dbTest.for(cases)('$name', async ({ capsule, error, message, name }, { db }) => {
    await db.query(schemaSql);
    await db.query(dataSql);
    const before = await dumpTables(db, tables);
    const path = await writeCapsuleFile(dir, `${name.replace(/\W+/g, '-')}.json`, capsule());
    const thrown = await materialize({ manifest, capsulePath: path, databaseUrl: db.url }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(thrown).toBeInstanceOf(error);
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message).not.toContain('\n');
    expect(await dumpTables(db, tables)).toEqual(before);
  });
});

describe('unsafe targets are refused before connecting', () => {
  dbTest('production-looking URLs and the export source', async ({ db }) => {
    const path = await writeCapsuleFile(
      dir,
      'source.json',
      lineCapsuleText({ ...valid, extra: { source: { kind: 'postgres', database: db.url.identity() } } }),
    );
    const prod = DatabaseUrl.parse('postgres://u:p@prod-db.internal:5432/shop');
    await expect(materialize({ manifest, capsulePath: path, databaseUrl: prod })).rejects.toThrow(
      UnsafeTargetError,
    );
    await expect(materialize({ manifest, capsulePath: path, databaseUrl: db.url })).rejects.toThrow(
      /it is the database the capsule is exported from/,
    );
    await db.query(schemaSql);
    const result = await materialize({
      manifest,
      capsulePath: path,
      databaseUrl: db.url,
      allowUnsafeTarget: true,
    });
    expect(result.verified).toBe(true);
  });
});
