import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect } from 'vitest';

import { DatabaseError, ManifestError } from '../../../src/errors.js';
import { explainExport, exportCapsule } from '../../../src/services/export.js';
import { dumpTables } from '../../setup/capsules.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';
import { manifestFrom } from '../export/helpers.js';

// #13 item 1: a manifest snippet cannot escape the read-only export by stacking statements. Every
// snippet field is tried with every escape; each must fail with 25006 (a write refused), a manifest
// error (more than one statement) or a SQL error naming the snippet — never a write on the source.

const schema = `
  create table accounts (account_id text primary key, name text not null);
  create table audit (id bigserial primary key, note text);
  insert into accounts values ('a1', 'Ann'), ('a2', 'Bo');
  create function bump() returns int language sql as $$ insert into audit (note) values ('written') returning 1 $$;
`;

const write = `update accounts set name = 'pwned'`;
/**
 * Ways out of a statement, each ending with a write. `close` closes the field's context; `reopen` makes
 * what the builder appends after the field valid again (for COPY fields `copy (select 1` takes the
 * wrapper's `\n) to stdout …`), so before the fix each of these was one valid multi-statement string.
 */
const escapes = (close: string, reopen: string): Array<[string, string]> => [
  ['stacked commit + update', `${close}; commit; ${write}; commit; ${reopen}`],
  [
    'set transaction read write',
    `${close}; commit; begin; set transaction read write; ${write}; commit; ${reopen}`,
  ],
  ['reset all', `${close}; commit; reset all; ${write}; commit; ${reopen}`],
  [
    'set session characteristics',
    `${close}; commit; set session characteristics as transaction read write; ${write}; commit; ${reopen}`,
  ],
  ['DO block', `${close}; commit; do $$ begin ${write}; end $$; ${reopen}`],
  ['psql \\; form', `${close} \\; commit \\; ${write} \\; ${reopen}`],
];

type Field = 'orderBy' | 'where' | 'from' | 'rowSql' | 'graphEdges';

/** The manifest with one hostile field; the others are sane. */
function manifestWith(field: Field, value: string) {
  const table: Record<string, unknown> = { name: 'accounts', alias: 'a' };
  const edges: string[] = [];
  if (field === 'graphEdges')
    edges.push(`select a.account_id, 'x'::text as reason from accounts a where ${value}`);
  else table[field] = value;
  return manifestFrom({
    appId: 'acct',
    adapter: 'postgres-subject-graph.v1',
    subjectKeys: ['account_id'],
    postgres: { graphEdges: edges, tables: [table] },
  });
}

/** What closes the surrounding syntax for each field, so the rest of the value is "outside". */
const copyTail = 'copy (select 1';
const fields: Array<[Field, string, string]> = [
  ['orderBy', 'a.account_id) to stdout', copyTail],
  ['where', 'true) to stdout', copyTail],
  ['from', 'accounts a) to stdout', copyTail],
  ['rowSql', 'to_jsonb(a))::jsonb::text from accounts a) to stdout', 'copy (select (1'],
  ['graphEdges', 'true)', 'select 1 as x, (select 1'],
];

const cases = [
  ...fields.flatMap(([field, close, reopen]) =>
    escapes(close, reopen).map(([name, value]) => ({ field, name, value })),
  ),
  // Inside one statement: turn the transaction read-write, then write through a function.
  ...(['rowSql', 'where', 'orderBy'] as const).map((field) => ({
    field,
    name: 'set_config(transaction_read_only) then a writing function',
    value:
      field === 'rowSql'
        ? `to_jsonb(a) || jsonb_build_object('ro', set_config('transaction_read_only', 'off', false), 'w', bump())`
        : `set_config('transaction_read_only', 'off', false) is not null and bump() = 1`,
  })),
];

async function attempt(db: TestDatabase, field: Field, value: string): Promise<unknown> {
  const dir = await mkdtemp(join(tmpdir(), 'stacked-'));
  const error = await exportCapsule({
    manifest: manifestWith(field, value),
    subject: { account_id: 'a1' },
    databaseUrl: db.url,
    out: join(dir, 'c.json'),
    sinceDays: 180,
    redaction: 'safe',
  }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(await readdir(dir)).toEqual([]);
  return error;
}

function expectSafeFailure(error: unknown): void {
  expect(error, 'the export must fail').toBeDefined();
  const safe =
    error instanceof ManifestError ||
    (error instanceof DatabaseError && ['25006', '42601', '25001', '0A000'].includes(error.sqlState ?? ''));
  expect(safe, `unexpected: ${String(error)}`).toBe(true);
  expect((error as Error).message).not.toContain('\n');
}

describe('export: stacked statements in any snippet field fail and the source is unchanged', () => {
  dbTest.for(cases)('$field: $name', async ({ field, value }, { db }) => {
    await db.query(schema);
    const before = await dumpTables(db, ['accounts', 'audit']);
    expectSafeFailure(await attempt(db, field, value));
    expect(await dumpTables(db, ['accounts', 'audit'])).toEqual(before);
  });
});

describe('a snippet with more than one statement is a manifest error (exit 2), named', () => {
  dbTest('orderBy with a complete second statement', async ({ db }) => {
    await db.query(schema);
    const error = await attempt(db, 'orderBy', `a.account_id; ${write}`);
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as Error).message).toMatch(/export: table accounts: .*more than one statement/);
    expect((await db.query(`select name from accounts where account_id = 'a1'`))[0]).toEqual({ name: 'Ann' });
  });

  dbTest('explain (--explain) plans through the extended protocol too', async ({ db }) => {
    await db.query(schema);
    const error = await explainExport({
      manifest: manifestWith('orderBy', `a.account_id; ${write}`),
      subject: { account_id: 'a1' },
      databaseUrl: db.url,
      sinceDays: 180,
    }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ManifestError);
    expect((await db.query(`select name from accounts where account_id = 'a1'`))[0]).toEqual({ name: 'Ann' });
  });

  dbTest('the export session starts with default_transaction_read_only=on', async ({ db }) => {
    await db.query(schema);
    // rowSql reads the session default inside the export: on, set by the startup packet.
    const dir = await mkdtemp(join(tmpdir(), 'stacked-'));
    const result = await exportCapsule({
      manifest: manifestWith(
        'rowSql',
        `jsonb_build_object('account_id', a.account_id, 'name', current_setting('default_transaction_read_only'))`,
      ),
      subject: { account_id: 'a1' },
      databaseUrl: db.url,
      out: join(dir, 'c.json'),
      sinceDays: 180,
      redaction: 'raw',
    });
    expect(result.rowCounts.accounts).toBeGreaterThan(0);
    expect(await readFile(result.capsule, 'utf8')).toContain('"name": "on"');
  });
});
