// Redaction in SQL (src/redaction/redaction-sql.ts) against the JS redactor, on generated rows and rules:
// for every row, the value the server path gives (its own redaction, or the JS redactor on the rows it
// marks) must equal what the JS path alone gives — same keys in the same order, same strings, same number
// text (compared as lossless-json compact text, so 19.90 vs 19.9 or a changed hash would fail).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import fc from 'fast-check';
import { parse, stringify } from 'lossless-json';
import pg from 'pg';
import { describe, expect } from 'vitest';

import { ManifestError } from '../../../src/errors.js';
import type { ParsedRedactionRule } from '../../../src/manifest/index.js';
import {
  buildSqlRedaction,
  createRowRedactor,
  hashValue,
  jsRedactionMarker,
  redactRowText,
} from '../../../src/redaction/index.js';
import { exportCapsule } from '../../../src/services/export.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';
import { redactionRow as row, redactionRule as rule } from '../../setup/json-arbitraries.js';
import { capsuleRowTexts, manifestFrom } from './helpers.js';

const compact = (text: string) => stringify(parse(text)) ?? 'null';

async function withClient<T>(db: TestDatabase, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: db.url.connectionString() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Both paths over the rows of table `t`; returns [sql path, js path] row texts, compact. */
async function bothPaths(client: pg.Client, rules: ParsedRedactionRule[]): Promise<[string[], string[]]> {
  const redactor = createRowRedactor(rules, 't');
  const original = (await client.query<{ r: string }>('select r::text as r from t order by id')).rows;
  const js = original.map(({ r }) => redactRowText(redactor, r));
  // The writer's byte path (in-place splice where it can) gives the same values as the full path.
  const bytes = original.map(({ r }) =>
    redactor ? redactor.redactBytes(Buffer.from(r, 'utf8')).toString('utf8') : r,
  );
  expect(bytes.map(compact)).toEqual(js.map(compact));
  const sql = buildSqlRedaction(rules, 't', 'select r from t order by id');
  if (!sql) return [js, js];
  const rows = (await client.query<Record<string, string>>(sql.text)).rows.map((r) => Object.values(r)[0]!);
  const viaSql = rows.map((text) =>
    text.charCodeAt(0) === jsRedactionMarker
      ? redactor!.redactBytes(Buffer.from(text.slice(1), 'utf8')).toString('utf8')
      : text,
  );
  return [viaSql.map(compact), js.map(compact)];
}

describe('redaction in SQL', () => {
  dbTest('gives the same values as the JS redactor on generated rows and rules', async ({ db }) => {
    await db.query('create table t (id serial primary key, r jsonb)');
    let marked = 0;
    let total = 0;
    await withClient(db, async (client) => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(rule, { minLength: 1, maxLength: 3 }),
          fc.array(row, { minLength: 1, maxLength: 40 }),
          async (rules, rows) => {
            await client.query('truncate t');
            await client.query('insert into t (r) select unnest($1::jsonb[])', [rows]);
            const [viaSql, js] = await bothPaths(client, rules);
            expect(viaSql).toEqual(js);
            const sql = buildSqlRedaction(rules, 't', 'select r from t order by id');
            if (sql) {
              const texts = (await client.query<{ text: string }>(sql.text)).rows;
              total += texts.length;
              marked += texts.filter((r) => Object.values(r)[0]!.charCodeAt(0) === jsRedactionMarker).length;
            }
          },
        ),
        { numRuns: 150 },
      );
    });
    // Both paths were exercised: some rows redacted by the server, some handed to the JS redactor.
    expect(marked).toBeGreaterThan(0);
    expect(total - marked).toBeGreaterThan(0);
  });

  dbTest(
    "hashes strings as the original tool did; non-strings go to the JS path's serde_json text",
    async ({ db }) => {
      await db.query('create table t (id serial primary key, r jsonb)');
      await db.query(
        `insert into t (r) values ('{"email": "prod-user-123"}'), ('{"email": 19.90}'), ('{"email": null}'),
       ('{"email": ""}'), ('{"other": 1}'), ('{"email": "ada@example.com", "p": {"email": "x"}}')`,
      );
      const rules = [
        { fields: ['email'], action: 'hash', prefix: 'replay-user-', recursive: true },
      ] as ParsedRedactionRule[];
      const sql = buildSqlRedaction(rules, 't', 'select r from t order by id')!;
      const rows = (await db.query<Record<string, string>>(sql.text)).map((r) => Object.values(r)[0]!);
      expect(rows.slice(0, 5)).toEqual([
        '{"email": "replay-user-3376300c1af8"}',
        '\u0003{"email": 19.90}',
        '{"email": null}',
        '{"email": ""}',
        '{"other": 1}',
      ]);
      expect(rows[5]!.charCodeAt(0)).toBe(jsRedactionMarker); // nested: the JS redactor does the whole row
      const [viaSql] = await withClient(db, (client) => bothPaths(client, rules));
      expect(viaSql[1]).toBe(`{"email":"${hashValue('19.9', 'replay-user-')}"}`);
    },
  );

  dbTest.for(['1', '0'])(
    'a safe export (REPLAY_ENV_EXPORT_SQL_REDACTION=%s) rejects NULL and non-object rows, redacts the rest',
    async (mode, { db }) => {
      const previous = process.env.REPLAY_ENV_EXPORT_SQL_REDACTION;
      process.env.REPLAY_ENV_EXPORT_SQL_REDACTION = mode;
      await db.query(`create table accounts (account_id text primary key, email text)`);
      await db.query(`insert into accounts values ('a1', 'a@example.com')`);
      const dir = await mkdtemp(join(tmpdir(), 'sql-redaction-'));
      try {
        for (const [rowSql, message] of [
          ['null::jsonb', /row 1 is NULL/],
          [`to_jsonb(a.email)`, /row 1 is not a JSON object/],
        ] as const) {
          const manifest = manifestFrom({
            appId: 'acct',
            adapter: 'postgres-subject-graph.v1',
            subjectKeys: ['account_id'],
            postgres: { tables: [{ name: 'accounts', alias: 'a', rowSql }] },
            redactionRules: [{ fields: ['email'], action: 'hash' }],
          });
          // One export, both assertions: the error's class and its message.
          const failure = exportCapsule({
            manifest,
            subject: { account_id: 'a1' },
            databaseUrl: db.url,
            out: join(dir, 'c.json'),
            sinceDays: 1,
            redaction: 'safe',
          });
          await expect(failure).rejects.toThrow(ManifestError);
          await expect(failure).rejects.toThrow(message);
        }
        // And a good export (SQL or JS splice path): jsonb spacing kept, the hash is the original's.
        const manifest = manifestFrom({
          appId: 'acct',
          adapter: 'postgres-subject-graph.v1',
          subjectKeys: ['account_id'],
          postgres: { tables: [{ name: 'accounts', alias: 'a' }] },
          redactionRules: [{ fields: ['email'], action: 'hash', prefix: 'mail-' }],
        });
        const out = join(dir, 'ok.json');
        await exportCapsule({
          manifest,
          subject: { account_id: 'a1' },
          databaseUrl: db.url,
          out,
          sinceDays: 1,
          redaction: 'safe',
        });
        expect((await capsuleRowTexts(out)).accounts).toEqual([
          `{"email": "${hashValue('a@example.com', 'mail-')}", "account_id": "a1"}`,
        ]);
      } finally {
        if (previous === undefined) delete process.env.REPLAY_ENV_EXPORT_SQL_REDACTION;
        else process.env.REPLAY_ENV_EXPORT_SQL_REDACTION = previous;
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
