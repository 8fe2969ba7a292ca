import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { beforeAll, describe, expect } from 'vitest';

import { CapsuleError, DatabaseError, FileError } from '../../../src/errors.js';
import { exportCapsule } from '../../../src/services/export.js';
import { materialize } from '../../../src/services/materialize.js';
import { loadSession } from '../../../src/session/read-session.js';
import { accountsManifest, accountsSchema } from '../../setup/accounts-app.js';
import { dumpTables, lineCapsuleText, writeCapsuleFile } from '../../setup/capsules.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';
import { manifestFrom } from '../export/helpers.js';

// Bad input, tried systematically: hostile subject values are only ever data; broken capsules and
// session files are one clear error with the database untouched; a huge value works.

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reliability-bad-input-'));
});

const schema = accountsSchema;
const parsed = manifestFrom(accountsManifest);

async function exportAccount(db: TestDatabase, accountId: string, name: string): Promise<string> {
  const out = join(dir, name);
  await exportCapsule({
    manifest: parsed,
    subject: { account_id: accountId },
    databaseUrl: db.url,
    out,
    sinceDays: 180,
    redaction: 'safe',
  });
  return out;
}

function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
}

const hostileValues: Array<[string, string]> = [
  ['SQL injection', `'; drop table accounts; --`],
  ['a placeholder', '$1'],
  ['backslashes and quotes', `a\\b\\\\c'd"e\\'`],
  ['unicode, emoji, RTL, combining', 'ünï·😀·\u202e·e\u0301'],
  ['tabs, newlines, CSV and COPY bytes', 'a\tb\nc\r\n,"\\.\u0001\u001f'],
  ['an identifier-looking quote', 'x") or ("1"="1'],
];

describe('hostile subject values round-trip as data (export → capsule → materialize)', () => {
  dbTest.for(hostileValues)('%s', async ([, value], { db }) => {
    await db.query(schema);
    await db.query(`insert into accounts values ($1, 'Hostile'), ('other', 'Other')`, [value]);
    await db.query(`insert into events values (1, $1, $1), (2, 'other', 'x')`, [value]);
    const sourceBefore = await dumpTables(db, ['accounts', 'events']);
    const capsule = await exportAccount(
      db,
      value,
      `hostile-${createHash('md5').update(value).digest('hex')}.json`,
    );
    const json = JSON.parse(await readFile(capsule, 'utf8'));
    expect(json.subject).toEqual({ account_id: value });
    expect(json.graph).toEqual([{ account_id: value, reasons: ['subject'] }]);
    expect(json.tables.events).toEqual([{ id: 1, account_id: value, body: value }]);
    // The source is intact (no statement was injected), and so is a replay database after loading.
    expect(await dumpTables(db, ['accounts', 'events'])).toEqual(sourceBefore);
    const replay = await db.sibling();
    await replay.query(schema);
    await replay.query(`insert into accounts values ('keep', 'Keep')`);
    const result = await materialize({ manifest: parsed, capsulePath: capsule, databaseUrl: replay.url });
    expect(result.verified).toBe(true);
    expect(await replay.query('select account_id, name from accounts order by name')).toEqual([
      { account_id: value, name: 'Hostile' },
      { account_id: 'keep', name: 'Keep' },
    ]);
    expect(await replay.query('select body from events')).toEqual([{ body: value }]);
  });

  dbTest(
    'a NUL byte in a subject value is one clear error (Postgres text cannot hold NUL)',
    async ({ db }) => {
      await db.query(schema);
      const out = join(dir, 'nul.json');
      const error = await failure(
        exportCapsule({
          manifest: parsed,
          subject: { account_id: 'a\u0000b' },
          databaseUrl: db.url,
          out,
          sinceDays: 180,
          redaction: 'safe',
        }),
      );
      expect(error).toBeInstanceOf(DatabaseError);
      expect((error as Error).message).toMatch(/invalid byte sequence for encoding "UTF8": 0x00/);
      expect((error as Error).message).not.toContain('\n');
      await expect(readFile(out)).rejects.toThrow(/ENOENT/);
    },
  );
});

const account = { account_id: 'a1', name: 'Ann' };
const event = { id: 1, account_id: 'a1', body: 'b' };
const base = {
  app: 'acct',
  subject: { account_id: 'a1' },
  graph: [{ account_id: 'a1', reasons: ['subject'] }],
};
const good = () => lineCapsuleText({ ...base, tables: { accounts: [account], events: [event] } });

// Broken capsules through materialize (the reader's own messages are in test/integration/capsule/
// reader.test.ts; here: each one leaves the replay database exactly as it was).
const brokenCapsules: Array<
  [string, () => string | Buffer, typeof CapsuleError | typeof DatabaseError, RegExp]
> = [
  ['empty file', () => '', CapsuleError, /is truncated or not valid JSON/],
  ['not JSON at all', () => 'hello', CapsuleError, /not valid JSON/],
  ['a JSON array', () => '[1, 2]', CapsuleError, /the top level is not a JSON object/],
  ['a JSON string', () => '"capsule"', CapsuleError, /the top level is not a JSON object/],
  ['gzip-corrupt', () => corruptGzip(good()), CapsuleError, /is not a valid gzip file/],
  ['gzip of garbage', () => gzipSync('not json'), CapsuleError, /is truncated or not valid JSON/],
  [
    'wrong schemaVersion',
    () => good().replace('"schemaVersion": 1', '"schemaVersion": 99'),
    CapsuleError,
    /\/schemaVersion: must be 1/,
  ],
  [
    'subject value missing',
    () => lineCapsuleText({ ...base, subject: {}, tables: {} }),
    CapsuleError,
    /is invalid: \/subject: must NOT have fewer than 1 properties$/,
  ],
  [
    'a row that is a number',
    () => lineCapsuleText({ ...base, tables: { accounts: ['5'] } }),
    CapsuleError,
    /is invalid: \/tables\/accounts\/0: row is not an object$/,
  ],
  [
    'a row that is null',
    () => lineCapsuleText({ ...base, tables: { accounts: ['null'] } }),
    CapsuleError,
    /is invalid: \/tables\/accounts\/0: row is not an object$/,
  ],
  [
    'a hostile column name',
    () =>
      lineCapsuleText({
        ...base,
        tables: { accounts: [{ ...account, 'name"; drop table accounts; --': 'x' }] },
      }),
    DatabaseError,
    /the capsule has column\(s\) name"; drop table accounts; -- that the replay table does not/,
  ],
  [
    'a value of the wrong type',
    () =>
      lineCapsuleText({
        ...base,
        tables: { accounts: [account], events: [{ ...event, id: 'not-a-number' }] },
      }),
    DatabaseError,
    /invalid input syntax for type bigint/,
  ],
  [
    'a NUL character in a text value',
    () => lineCapsuleText({ ...base, tables: { accounts: [{ ...account, name: 'a\u0000b' }] } }),
    DatabaseError,
    /^materialize tables\[accounts\] stage \(.*\): unsupported Unicode escape sequence \(row 1, column doc\) \(\\u0000 cannot be converted to text\.\)$/,
  ],
];

function corruptGzip(text: string): Buffer {
  const gz = gzipSync(text);
  for (let i = 20; i < gz.length - 10; i += 5) gz[i] = gz[i]! ^ 0x5a;
  return gz;
}

describe('broken capsules: one clear error, the replay database exactly as before', () => {
  dbTest.for(brokenCapsules)('%s', async ([name, content, errorClass, message], { db }) => {
    await db.query(schema);
    await db.query(`insert into accounts values ('a1', 'Before'), ('a2', 'Other')`);
    await db.query(`insert into events values (7, 'a1', 'before')`);
    const before = await dumpTables(db, ['accounts', 'events']);
    const path = await writeCapsuleFile(dir, `broken-${name.replace(/\W+/g, '-')}.json`, content());
    const error = await failure(materialize({ manifest: parsed, capsulePath: path, databaseUrl: db.url }));
    expect(error).toBeInstanceOf(errorClass);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
    expect(await dumpTables(db, ['accounts', 'events'])).toEqual(before);
  });
});

const sessionStart = {
  type: 'session_activity',
  timestamp: '2026-01-01T00:00:00Z',
  data: {
    activity: 'session_start',
    details: { session_id: 's', pseudo_user: 'p', start_time: '2026-01-01T00:00:00Z' },
  },
};
const brokenSessions: Array<[string, string, RegExp]> = [
  ['empty file', '', /^cannot read session .*: Unexpected end of JSON input$/],
  ['truncated JSON', JSON.stringify([sessionStart]).slice(0, 40), /^cannot read session .*JSON/],
  ['an object, not an array', JSON.stringify(sessionStart), /is not a session file: \/: must be array/],
  ['an array of numbers', '[1, 2, 3]', /is not a session file: \/0: must be object/],
  [
    'an unknown event type',
    JSON.stringify([{ ...sessionStart, type: 'nope' }]),
    /is not a session file: \/0/,
  ],
  [
    'a query with a numeric sql',
    JSON.stringify([{ type: 'query', timestamp: 'x', data: { query_number: 1, sql: 42 } }]),
    /is not a session file: \/0/,
  ],
];

describe('malformed session files (replay): one clear line, a FileError', () => {
  dbTest.for(brokenSessions)('%s', async ([name, text, message]) => {
    const file = join(dir, `session-${name.replace(/\W+/g, '-')}.json`);
    await writeFile(file, text);
    const error = await failure(loadSession(file));
    expect(error).toBeInstanceOf(FileError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });
});
