import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { expect } from 'vitest';

import { openCapsule } from '../../../src/capsule/index.js';
import { materialize } from '../../../src/services/materialize.js';
import { dbTest } from '../../setup/database.js';
import { exportOwner, ownerManifest } from '../../setup/export-owner.js';
import { useTempDir } from '../../setup/temp-dir.js';

let dir: string;
useTempDir('json-nulls-', (path) => (dir = path));

// A json/jsonb column holding the JSON value null is written in the row's JSON as `null`, like SQL NULL,
// and loads as SQL NULL. The load said `verified: yes` on it (found in session 14). Now the export counts
// such rows per column (the capsule's integrity trailer) and materialize does not claim them verified.
const ddl = `
  create domain doc as jsonb;
  create table docs (id int primary key, owner text not null, d jsonb, j json, arr jsonb[], jarr json[],
    dom doc, big jsonb);
  create table kids (id int primary key, owner text not null, doc int references docs);`;
const rows = `
  insert into docs values
    (1, 'me', 'null', '  null ', null, null, null, null),
    (2, 'me', null, null, array['1'::jsonb, 'null'], array['null'::json], 'null', null),
    (3, 'me', '{"a": null}', '[null]', array['{}'::jsonb], array['1'::json], '{}', null),
    (4, 'me', 'null', null, null, null, null, (select jsonb_agg(g) from generate_series(1, 100000) g)),
    (5, 'you', 'null', 'null', array['null'::jsonb], array['null'::json], 'null', 'null'),
    (6, 'you', 'null', null, null, null, null, null);
  insert into kids values (1, 'me', 5), (2, 'you', 6);`;
const manifest = (closure: boolean) =>
  ownerManifest('json-nulls', {
    ...(closure ? { closure: 'parents' } : {}),
    // Without closure, kids (whose row 1 references you's doc) is not exported.
    tables: (closure ? ['docs', 'kids'] : ['docs']).map((name) => ({
      name,
      where: 't.owner = (select owner from params)',
    })),
  });

for (const way of ['no closure', 'closure by one query', 'closure by passed keys'])
  dbTest(`JSON nulls are counted at export and not verified at load (${way})`, async ({ db }) => {
    await db.query(`${ddl}${rows}`);
    const out = join(dir, `c-${way}.json`);
    const closure = way !== 'no closure';
    const exported = await exportOwner(db, manifest(closure), out, {
      closureDirect: way === 'closure by one query',
    });
    // Closure adds you's row 5 (a parent of me's kid): its marks are counted too.
    const expected = closure
      ? { d: 3, j: 2, arr: 2, jarr: 2, dom: 2, big: 1 }
      : { d: 2, j: 1, arr: 1, jarr: 1, dom: 1 };
    expect(exported.jsonNulls).toEqual({ docs: expected });
    // The rows are written without their marks, and the trailer's hash is of what is written.
    const text = await readFile(out, 'utf8');
    for (const mark of ['\u0003', '\u0004']) expect(text).not.toContain(mark);
    const capsule = JSON.parse(text) as {
      tables: { docs: Record<string, unknown>[] };
      integrity: { tables: { docs: { jsonNulls: unknown } } };
    };
    expect(capsule.tables.docs.map((row) => row.id).sort()).toEqual(closure ? [1, 2, 3, 4, 5] : [1, 2, 3, 4]);
    expect(capsule.integrity.tables.docs.jsonNulls).toEqual(expected);
    const reader = await openCapsule(out);
    for await (const batch of reader.batches()) void batch;
    expect(reader.summary().integrity).toMatchObject({ status: 'verified', jsonNulls: { docs: expected } });

    const replay = await db.sibling();
    await replay.query(ddl);
    const result = await materialize({
      manifest: manifest(closure),
      capsulePath: out,
      databaseUrl: replay.url,
    });
    expect(result.jsonNulls).toEqual({ docs: expected });
    expect(result.valueDifferences).toEqual({});
    expect(result.verified).toBe(false);
  });

dbTest('no JSON null: nothing is recorded and the load is verified', async ({ db }) => {
  await db.query(`${ddl}
    insert into docs values (1, 'me', '{"a": null}', '[null]', array['1'::jsonb], null, '1', null),
      (2, 'me', null, null, null, null, null, null);`);
  const out = join(dir, 'clean.json');
  const exported = await exportOwner(db, manifest(false), out);
  expect(exported.jsonNulls).toBeUndefined();
  expect(await readFile(out, 'utf8')).not.toContain('jsonNulls');
  const replay = await db.sibling();
  await replay.query(ddl);
  const result = await materialize({ manifest: manifest(false), capsulePath: out, databaseUrl: replay.url });
  expect(result.jsonNulls).toEqual({});
  expect(result.verified).toBe(true);
});

// Under safe redaction by SQL (REPLAY_ENV_EXPORT_SQL_REDACTION=1) a row may carry both marks: its JSON
// nulls, then 0x03 for the JS redactor (row 4: `big` is an array, which only the JS redactor hashes).
dbTest.for(['1', '0'])(
  'JSON nulls under safe redaction (REPLAY_ENV_EXPORT_SQL_REDACTION=%s)',
  async (mode, { db }) => {
    await db.query(`${ddl}${rows}`);
    const redacted = ownerManifest('json-nulls', {
      tables: [{ name: 'docs', where: 't.owner = (select owner from params)' }],
    });
    redacted.redactionRules.push({ fields: ['big'], action: 'hash', prefix: 'h-', recursive: false });
    const previous = process.env.REPLAY_ENV_EXPORT_SQL_REDACTION;
    process.env.REPLAY_ENV_EXPORT_SQL_REDACTION = mode;
    try {
      const out = join(dir, `safe-${mode}.json`);
      const exported = await exportOwner(db, redacted, out, { redaction: 'safe' });
      expect(exported.jsonNulls).toEqual({ docs: { d: 2, j: 1, arr: 1, jarr: 1, dom: 1 } });
      const text = await readFile(out, 'utf8');
      for (const mark of ['\u0003', '\u0004']) expect(text).not.toContain(mark);
      const docs = (JSON.parse(text) as { tables: { docs: Record<string, unknown>[] } }).tables.docs;
      expect(docs.find((row) => row.id === 4)!.big).toMatch(/^h-[0-9a-f]{12}$/);
      const reader = await openCapsule(out);
      for await (const batch of reader.batches()) void batch;
      expect(reader.summary().integrity.status).toBe('verified');
    } finally {
      if (previous === undefined) delete process.env.REPLAY_ENV_EXPORT_SQL_REDACTION;
      else process.env.REPLAY_ENV_EXPORT_SQL_REDACTION = previous;
    }
  },
);
