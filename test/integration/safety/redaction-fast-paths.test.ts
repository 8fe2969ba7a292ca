import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { parse, stringify } from 'lossless-json';
import { expect } from 'vitest';

import { exportCapsule } from '../../../src/services/export.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';
import { useTempDir } from '../../setup/temp-dir.js';
import { capsuleRowTexts, manifestFrom } from '../export/helpers.js';

// Red team of the redaction fast paths (row-lines.ts hands the redactor only rows holding a needle;
// top-level-splice.ts starts at the needles when every rule is recursive): on a real export, thousands of
// rows cut across COPY reads at every offset, rows past 1 MiB, keys inside strings, backslash runs,
// arrays of objects, a field inside its own value, a key given twice in json, hashed numbers, table-scoped
// and non-recursive rules — no secret may reach the capsule, and every row must hold exactly the values
// the full path (parse, redact, re-serialise: REPLAY_ENV_REDACTION_SPLICE=0) gives.

let dir: string;
useTempDir('redaction-fast-', (path) => (dir = path));

const schema = `
  create table accounts (account_id text primary key, body text);
  create table devices (id int primary key, token text, label text);
  create table notes (id int primary key, account_id text not null references accounts,
    device_id int references devices, ip text, body jsonb);
  insert into accounts values ('a1', 'account-body-kept'), ('a2', 'x');
  insert into devices values (1, 'SECRET-D1', 'keep-d'), (2, 'SECRET-D2', 'keep-d'), (3, 'other', 'device-of-a2');
`;

// jsonb text of each body is what the export sees (json input is normalised: the last of two keys wins).
const bodies = [
  `{"ip": "SECRET-1", "n": [{"ip": "SECRET-2"}, {"x": {"token": "SECRET-3"}}]}`,
  String.raw`{"a": "\"ip\": \"keep-1\"", "b": "x\\\\", "email": "SECRET-4"}`,
  `{"ip": {"ip": "SECRET-5", "email": "SECRET-6"}}`,
  `{"p": {"ip": "SECRET-7"}, "q": {"ip": 12.50}, "r": {"ip": true}}`,
  `{"ip": "SECRET-8", "ip": "SECRET-9"}`,
  `{"arr": [[{"email": "SECRET-10"}], {"pin": "SECRET-11"}], "z": ["ip", "email"]}`,
  String.raw`{"x": "\\\"ip\": 1", "y": "\\", "ip": "SECRET-12"}`,
  String.raw`{"ip\u0001": "keep-2", "email": "SECRET-13"}`,
  String.raw`{"say \"token": "keep-4", "x": "\"email\\"}`,
  String.raw`{"x": {"email\\": "keep-5", "\\": {"email": "SECRET-18"}}}`,
  `{"ip": "", "email": null, "token": {}}`,
  `{"émail": "keep-3", "ip": "SECRET-14 ü", "top": {"secret": "keep-nested"}, "secret": "keep-nested"}`,
  `{"email": {"email": {"email": "SECRET-16"}}, "ip": [{"ip": "SECRET-17"}]}`,
];

const rules = {
  // Every rule recursive, plain field names: the splice starts at the needles.
  anyDepth: [
    { fields: ['ip', 'token'], action: 'hash', prefix: 'h-' },
    { fields: ['email'], action: 'empty' },
    { table: 'notes', fields: ['pin', 'secret'], action: 'null' },
    { table: 'accounts', fields: ['body'], action: 'null' },
  ],
  // A non-recursive rule and a field that is not a plain name: the scanner walks every row.
  mixed: [
    { fields: ['ip', 'token'], action: 'hash', prefix: 'h-' },
    { fields: ['email', 'a/b'], action: 'empty' },
    { table: 'notes', fields: ['pin'], action: 'null' },
    { table: 'notes', fields: ['secret', 'device_id'], action: 'null', recursive: false },
    { fields: ['ip'], action: 'hash', prefix: 'again-' },
  ],
};

function manifest(redactionRules: readonly object[]) {
  return manifestFrom({
    appId: 'fast-paths',
    adapter: 'postgres-subject-graph.v1',
    subjectKeys: ['account_id'],
    postgres: {
      closure: 'parents',
      tableOrder: ['accounts', 'devices', 'notes'],
      tables: [
        { name: 'accounts', where: 't.account_id in (select account_id from graph_keys)' },
        { name: 'devices', where: 'false' },
        { name: 'notes', where: 't.account_id in (select account_id from graph_keys)' },
      ],
    },
    redactionRules,
  });
}

async function load(db: TestDatabase): Promise<void> {
  await db.query(schema);
  // 4,000 rows of every body, rows of varying length so COPY reads end at every offset of a row.
  await db.query(
    `insert into notes
     select g, 'a1', 1 + g % 2, 'SECRET-T' || g,
       jsonb_set(($1::text[])[1 + g % $2]::jsonb, '{pad}', to_jsonb(repeat('"\\ip', g % 37)))
     from generate_series(1, 4000) g`,
    [bodies, bodies.length],
  );
  // Rows past 1 MiB, the field first and last, and a row of another account.
  await db.query(
    `insert into notes values
       (5001, 'a1', null, 'SECRET-B1', jsonb_build_object('ip', 'SECRET-B2', 'pad', repeat('p', 1300000))),
       (5002, 'a1', null, null, jsonb_build_object('pad', repeat('"ip', 500000), 'email', 'SECRET-B3')),
       (5003, 'a2', 3, 'other-account', '{}')`,
  );
}

async function exportWith(db: TestDatabase, redactionRules: readonly object[], splice: boolean) {
  const out = join(dir, `c-${splice}-${redactionRules.length}.json`);
  const saved = process.env.REPLAY_ENV_REDACTION_SPLICE;
  if (!splice) process.env.REPLAY_ENV_REDACTION_SPLICE = '0';
  try {
    await exportCapsule({
      manifest: manifest(redactionRules),
      subject: { account_id: 'a1' },
      databaseUrl: db.url,
      out,
      sinceDays: 30,
      redaction: 'safe',
    });
  } finally {
    if (saved === undefined) delete process.env.REPLAY_ENV_REDACTION_SPLICE;
    else process.env.REPLAY_ENV_REDACTION_SPLICE = saved;
  }
  return out;
}

const compact = (text: string) => stringify(parse(text)) ?? 'null';

for (const [name, ruleSet] of Object.entries(rules)) {
  dbTest(
    `no secret reaches the capsule and every row equals the full path (${name} rules)`,
    async ({ db }) => {
      await load(db);
      const fast = await exportWith(db, ruleSet, true);
      const full = await exportWith(db, ruleSet, false);
      for (const path of [fast, full]) {
        const text = await readFile(path, 'utf8');
        expect(text.match(/SECRET-[\w ü]*/g) ?? []).toEqual([]);
        // A nested `secret` is kept only where its rule is not recursive.
        const kept = [
          'keep-1',
          'keep-2',
          'keep-3',
          'keep-4',
          'keep-5',
          'keep-d',
          ...(name === 'mixed' ? ['keep-nested'] : []),
        ];
        for (const value of kept) expect(text, value).toContain(value);
        expect(text.includes('keep-nested')).toBe(name === 'mixed');
        expect(text.includes('account-body-kept')).toBe(name === 'mixed');
        expect(text).not.toContain('device-of-a2');
      }
      const fastRows = await capsuleRowTexts(fast);
      const fullRows = await capsuleRowTexts(full);
      expect(Object.fromEntries(Object.entries(fastRows).map(([t, rows]) => [t, rows.length]))).toEqual({
        accounts: 1,
        devices: 2,
        notes: 4002,
      });
      for (const table of Object.keys(fullRows)) {
        const fastValues = fastRows[table]!.map(compact);
        const fullValues = fullRows[table]!.map(compact);
        fullValues.forEach((value, index) => expect(fastValues[index], `${table} row ${index}`).toBe(value));
      }
      // The full path itself applied the rules (a hashed top-level column; a top-level non-recursive rule).
      expect(fullRows.notes!.filter((row) => /"ip":"(h|again)-/.test(row))).toHaveLength(4001);
      const devices = fullRows.notes!.filter((row) => row.includes('"device_id":1'));
      expect(devices).toHaveLength(name === 'mixed' ? 0 : 2000);
    },
    120_000,
  );
}
