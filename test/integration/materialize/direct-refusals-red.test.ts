import { spawnSync } from 'node:child_process';
import { truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { generateIdentity, identityToRecipient } from 'age-encryption';
import { afterEach, beforeAll, describe, expect } from 'vitest';

import { CapsuleError } from '../../../src/errors.js';
import type { ParsedManifest } from '../../../src/manifest/index.js';
import { materialize } from '../../../src/services/materialize.js';
import {
  capsuleDir,
  dumpTables,
  lineCapsuleText,
  shopCustomer,
  shopOrder,
  writeCapsuleFile,
} from '../../setup/capsules.js';
import { dbTest } from '../../setup/database.js';
import { ageCliInstalled, originalToolFiles } from '../../setup/governance.js';

// The direct load (empty replay tables) reads the capsule without hashing the file: every damaged
// capsule is still refused by the rows' hashes, counts or framing, in one line, nothing loaded.
const tables = ['customers', 'orders', 'order_notes'];
let manifest: ParsedManifest;
let schemaSql: string;
let dir: string;
beforeAll(async () => {
  ({ manifest, schemaSql } = await originalToolFiles());
  dir = await capsuleDir();
});
afterEach(() => {
  delete process.env.REPLAY_ENV_MAX_LINE_BYTES;
});

const order = { ...shopOrder, tags: ['a\\b', 'NULL', null] };
const note = (id: number, body: string) => ({
  id,
  order_id: 1,
  shop_id: 's1',
  author_customer_id: 'c1',
  body,
  created_at: '2026-01-05T12:00:00+00:00',
});
const valid = lineCapsuleText({
  graph: [{ shop_id: 's1', customer_id: 'c1', reasons: ['subject'] }],
  tables: {
    customers: [shopCustomer],
    orders: [order],
    order_notes: [note(1, 'b'), note(2, 'x'.repeat(200_000))],
  },
});
const cut = (text: string, at: string, extra: number) => text.slice(0, text.indexOf(at) + extra);

const firstNote = (replacement: string) =>
  Buffer.from(
    valid.replace(
      /\n( *)([^\n]*"body":"b"[^\n]*)/,
      (_line, indent: string, row: string) => `\n${indent}${replacement}${row.endsWith(',') ? ',' : ''}`,
    ),
  );
const cases: { name: string; bytes: () => Buffer; lineLimit?: string; message?: RegExp }[] = [
  { name: 'an edited row', bytes: () => Buffer.from(valid.replace('"body":"b"', '"body":"c"')) },
  { name: 'an edited row, gzip', bytes: () => gzipSync(valid.replace('"body":"b"', '"body":"c"')) },
  { name: 'a removed row', bytes: () => Buffer.from(valid.replace(/\n[^\n]*"body":"b"[^\n]*/, '')) },
  { name: 'truncated mid-row', bytes: () => Buffer.from(cut(valid, '"body":"xxx', 100)) },
  { name: 'truncated before the trailer', bytes: () => Buffer.from(cut(valid, '"integrity"', 0)) },
  { name: 'truncated gzip', bytes: () => gzipSync(valid).subarray(0, 300) },
  { name: 'a BOM', bytes: () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(valid)]) },
  { name: 'a row longer than the line limit', bytes: () => Buffer.from(valid), lineLimit: '65536' },
  {
    name: "a NUL byte in a table's first row",
    bytes: () => Buffer.from(valid.replace('"body":"b"', '"body":"b\u0000"')),
    message: /^tables\[order_notes\] row 1: invalid JSON: Bad control character/,
  },
  {
    name: 'a first row that is not JSON',
    bytes: () => firstNote('{"id": 1, }'),
    message: /^tables\[order_notes\] row 1: invalid JSON: /,
  },
  {
    name: 'a first row that is null',
    bytes: () => firstNote('null'),
    message: /is corrupt at line \d+: a row of "order_notes" is not a JSON object on one line$/,
  },
  {
    name: 'a first row that is an array',
    bytes: () => firstNote('[1]'),
    message: /is corrupt at line \d+: a row of "order_notes" is not a JSON object on one line$/,
  },
];

dbTest.for(cases)(
  'direct load of $name: refused in one line, nothing loaded',
  async ({ name, bytes, lineLimit, message }, { db }) => {
    await db.query(schemaSql);
    if (lineLimit) process.env.REPLAY_ENV_MAX_LINE_BYTES = lineLimit;
    const path = await writeCapsuleFile(dir, `${name.replace(/\W+/g, '-')}.json`, bytes());
    const thrown = await materialize({ manifest, capsulePath: path, databaseUrl: db.url }).then(
      (result) => result,
      (caught: unknown) => caught,
    );
    expect(thrown).toBeInstanceOf(CapsuleError);
    if (message) expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message).not.toContain('\n');
    expect(await dumpTables(db, tables)).toEqual(Object.fromEntries(tables.map((table) => [table, []])));
  },
);

// Value verification hashes a batch's rows before they are converted, and parses each row that is not
// printed as to_jsonb prints it (these are compact): a malformed row was an internal error (exit 1).
dbTest.for([
  ['a short row (read with its batch’s bytes)', 'c'],
  ['a row longer than a read chunk (read as text)', 'y'.repeat(100_000)],
])(
  'a malformed row after the first, %s: refused in one line naming it, nothing loaded',
  async ([, body], { db }) => {
    await db.query(schemaSql);
    const text = lineCapsuleText({
      graph: [{ shop_id: 's1', customer_id: 'c1', reasons: ['subject'] }],
      tables: {
        customers: [shopCustomer],
        orders: [order],
        order_notes: [note(1, 'a'), note(2, 'b'), note(3, body!), note(4, 'd')],
      },
    });
    const broken = text.replace(`"body":"${body}"`, `"body":"${body}"} x`);
    expect(broken).not.toBe(text);
    const path = await writeCapsuleFile(dir, `malformed-${body!.length}.json`, broken);
    const thrown = await materialize({ manifest, capsulePath: path, databaseUrl: db.url }).then(
      (result) => result,
      (caught: unknown) => caught,
    );
    expect(thrown).toBeInstanceOf(CapsuleError);
    expect((thrown as Error).message).toMatch(
      /^tables\[order_notes\] row 3: invalid JSON: unexpected text at \d+$/,
    );
    expect(await dumpTables(db, tables)).toEqual(Object.fromEntries(tables.map((table) => [table, []])));
  },
);

dbTest('CRLF line ends: loaded exactly (through the staging table), verified', async ({ db }) => {
  await db.query(schemaSql);
  const path = await writeCapsuleFile(dir, 'crlf.json', valid.replaceAll('\n', '\r\n'));
  const result = await materialize({ manifest, capsulePath: path, databaseUrl: db.url });
  expect(result.verified).toBe(true);
  expect(await db.query('select id, length(body) as n from order_notes order by id')).toEqual([
    { id: '1', n: 1 },
    { id: '2', n: 200_000 },
  ]);
});

dbTest('the intact capsule loads by direct COPY, verified, equal to the capsule', async ({ db }) => {
  await db.query(schemaSql);
  const path = await writeCapsuleFile(dir, 'intact.json', valid);
  const result = await materialize({ manifest, capsulePath: path, databaseUrl: db.url });
  expect(result.directCopy).toEqual(tables);
  expect(result.verified).toBe(true);
  const [row] = await db.query<{ tags: unknown; body: string }>(
    'select to_jsonb(o.tags) as tags, (select body from order_notes where id = 2) as body from orders o',
  );
  expect(row).toEqual({ tags: ['a\\b', 'NULL', null], body: 'x'.repeat(200_000) });
});

dbTest(
  'a capsule truncated while the direct load reads it: refused in one line, nothing loaded',
  async ({ db }) => {
    await db.query(schemaSql);
    const notes = Array.from({ length: 60_000 }, (_, i) => note(i + 1, `${i}`.padEnd(400, 'n')));
    const text = lineCapsuleText({
      graph: [{ shop_id: 's1', customer_id: 'c1', reasons: ['subject'] }],
      tables: { customers: [shopCustomer], orders: [order], order_notes: notes },
    });
    const path = await writeCapsuleFile(dir, 'shrinking.json', text);
    const loading = materialize({ manifest, capsulePath: path, databaseUrl: db.url }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    // Cut the file to a third once the load is under way (the reader is past the header by then).
    await new Promise((resolve) => setTimeout(resolve, 150));
    await truncate(path, Math.floor(text.length / 3));
    const thrown = await loading;
    expect(thrown).toBeInstanceOf(CapsuleError);
    expect((thrown as Error).message).not.toContain('\n');
    expect(await dumpTables(db, tables)).toEqual(Object.fromEntries(tables.map((table) => [table, []])));
  },
);

describe.skipIf(!ageCliInstalled)('age-encrypted capsules (needs the age CLI)', () => {
  const encrypt = async (name: string, plain: string, gzip: boolean) => {
    const identity = await generateIdentity();
    const keyFile = join(dir, `${name}.key`);
    await writeFile(keyFile, `${identity}\n`, { mode: 0o600 });
    const path = join(dir, `${name}${gzip ? '.json.gz.age' : '.json.age'}`);
    const sealed = spawnSync('age', ['-r', await identityToRecipient(identity)], {
      input: gzip ? gzipSync(plain) : plain,
    });
    await writeFile(path, sealed.stdout);
    process.env.REPLAY_ENV_AGE_IDENTITY = keyFile;
    return path;
  };
  afterEach(() => {
    delete process.env.REPLAY_ENV_AGE_IDENTITY;
  });
  for (const gzip of [false, true]) {
    dbTest(`intact${gzip ? ', gzip' : ''}: loaded by direct COPY, verified`, async ({ db }) => {
      await db.query(schemaSql);
      const path = await encrypt(`intact-${gzip}`, valid, gzip);
      const result = await materialize({ manifest, capsulePath: path, databaseUrl: db.url });
      expect(result.directCopy).toEqual(tables);
      expect(result.verified).toBe(true);
    });
    dbTest(`an edited row${gzip ? ', gzip' : ''}: refused in one line, nothing loaded`, async ({ db }) => {
      await db.query(schemaSql);
      const path = await encrypt(`edited-${gzip}`, valid.replace('"body":"b"', '"body":"c"'), gzip);
      const thrown = await materialize({ manifest, capsulePath: path, databaseUrl: db.url }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(thrown).toBeInstanceOf(CapsuleError);
      expect((thrown as Error).message).toMatch(/failed its integrity check: table "order_notes"/);
      expect(await dumpTables(db, tables)).toEqual(Object.fromEntries(tables.map((table) => [table, []])));
    });
  }
});
