import { readFile } from 'node:fs/promises';

import { expect } from 'vitest';

import { openCapsule } from '../../../src/capsule/index.js';
import { dbTest } from '../../setup/database.js';
import { exportAccount } from '../../setup/export-account.js';
import { manifestFrom } from '../export/helpers.js';

// A `json` column keeps its text as written, and `row_to_json` prints it so: a rule field can be spelled
// with an escape there (`"\u0065mail"`, `"a\/b"`), which a literal needle search misses. Export reads
// every row as `(<rowSql>)::jsonb::text`, which spells keys plainly, and the redactor's pre-check also
// takes rows holding such escapes (row-redactor.test.ts): these rows must come out redacted, alone in
// their COPY chunk or next to rows that hold the field spelled plainly.

const schema = `
  create table accounts (account_id text primary key);
  create table notes (id int primary key, account_id text not null references accounts, body json);
  insert into accounts values ('a1');
`;

const bodies = [
  String.raw`{"\u0065mail": "secret-top"}`,
  String.raw`{"n": [{"em\u0061il": "secret-nested"}]}`,
  String.raw`{"a\/b": "secret-slash"}`,
  '{"email": "secret-plain"}',
];

function manifest(rules: readonly object[]) {
  return manifestFrom({
    appId: 'escaped',
    adapter: 'postgres-subject-graph.v1',
    subjectKeys: ['account_id'],
    postgres: {
      tableOrder: ['accounts', 'notes'],
      tables: [
        { name: 'accounts', where: 't.account_id in (select account_id from graph_keys)' },
        {
          name: 'notes',
          rowSql: 'row_to_json(t)',
          where: 't.account_id in (select account_id from graph_keys)',
        },
      ],
    },
    redactionRules: rules,
  });
}

/** Counts the rule fields of the capsule's notes rows, checking each holds its rule's result. */
async function redactedFields(out: string, fields: readonly string[]): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value !== null && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if (fields.includes(key)) {
          seen[key] = (seen[key] ?? 0) + 1;
          expect(inner, key).toBe(key === 'email' ? '' : null);
        } else walk(inner);
      }
    }
  };
  const reader = await openCapsule(out);
  for await (const row of reader.rows()) if (row.table === 'notes') walk(JSON.parse(row.text));
  return seen;
}

// Plain field names only (the splice may start at the needles), and a field with a `/` (it may not).
for (const [name, rules] of [
  ['plain field names', [{ fields: ['email'], action: 'empty' }]],
  [
    'a field with a slash',
    [
      { fields: ['email'], action: 'empty' },
      { fields: ['a/b'], action: 'null' },
    ],
  ],
] as const) {
  dbTest(`escaped rule fields are redacted (${name})`, async ({ db }) => {
    await db.query(schema);
    // Ids 1–3: escaped spellings only, in a chunk of their own; then 2,000 rows mixing all four.
    for (const [index, body] of bodies.slice(0, 3).entries()) {
      await db.query(`insert into notes values ($1, 'a1', $2)`, [index + 1, body]);
    }
    await db.query(
      `insert into notes select 100 + g, 'a1', ($1::text[])[1 + g % 4]::json from generate_series(1, 2000) g`,
      [bodies],
    );
    const { out, result } = await exportAccount(db, manifest(rules));
    expect(result.rowCounts).toEqual({ accounts: 1, notes: 2003 });
    const capsule = await readFile(out, 'utf8');
    for (const secret of ['secret-top', 'secret-nested', 'secret-plain'])
      expect(capsule).not.toContain(secret);
    const slashRule = rules.length === 2;
    expect(capsule.includes('secret-slash')).toBe(!slashRule);
    expect(await redactedFields(out, slashRule ? ['email', 'a/b'] : ['email'])).toEqual(
      slashRule ? { email: 1502, 'a/b': 501 } : { email: 1502 },
    );
  });
}
