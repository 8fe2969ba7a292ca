import { createHash } from 'node:crypto';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

import { parse, stringify } from 'lossless-json';
import { afterEach, beforeEach, describe, expect } from 'vitest';

import { explainExport, exportCapsule } from '../../../src/services/export.js';
import { dbTest } from '../../setup/database.js';
import { type CapsuleJson, capsuleRowTexts, manifestFrom } from './helpers.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'export-streaming-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

// 20,000 rows (several MB): many COPY chunks, so rows are split across chunk boundaries; every third row
// carries a secret (top level and nested in an array), multibyte text and exact numerics.
const schema = `
  create table items (
    id bigint primary key, account_id text not null, note text not null, secret text,
    big numeric(40, 6) not null, price numeric(10, 2) not null, doc jsonb not null);
  insert into items
  select i, case when i % 10 = 0 then 'other' else 'a1' end,
         'row ' || i || E' "quoted" \\\\ tab\\t nl\\n 🚀 ünï ' || repeat('x', i % 300),
         case when i % 3 = 0 then 'secret-' || i end,
         12345678901234567890.123456, 19.90,
         jsonb_build_object('list', jsonb_build_array(jsonb_build_object('secret', 's' || i, 'keep', i)), 'n', i)
  from generate_series(1, 20000) i;
`;

const manifest = manifestFrom({
  appId: 'items',
  adapter: 'postgres-subject-graph.v1',
  subjectKeys: ['account_id'],
  postgres: {
    tables: [
      {
        name: 'items',
        alias: 'i',
        from: 'items i join graph_keys g on g.account_id = i.account_id',
        orderBy: 'i.id',
      },
    ],
  },
  redactionRules: [{ fields: ['secret'], action: 'hash', prefix: 'h-' }],
});

async function expectedRows(db: { query: (sql: string) => Promise<Array<Record<string, unknown>>> }) {
  const rows = await db.query(
    `select to_jsonb(i)::text as row from items i where account_id = 'a1' order by id`,
  );
  return rows.map((row) => row.row as string);
}

describe('streaming export', () => {
  dbTest('rows split across chunks, redacted only where a rule applies, numerics exact', async ({ db }) => {
    await db.query(schema);
    const out = join(dir, 'items.json');
    const result = await exportCapsule({
      manifest,
      subject: { account_id: 'a1' },
      databaseUrl: db.url,
      out,
      sinceDays: 180,
      redaction: 'safe',
    });
    const expected = await expectedRows(db);
    const rows = (await capsuleRowTexts(out)).items!;
    expect(result.rowCounts).toEqual({ items: 18000 });
    expect(rows).toHaveLength(expected.length);
    let redacted = 0;
    rows.forEach((row, index) => {
      const original = expected[index]!;
      const source = parse(original) as CapsuleJson;
      if (source.secret === null) {
        // Nested secrets exist on every row, so every row is redacted; values must still be exact.
        source.doc.list[0].secret = `h-${createHash('sha256').update(source.doc.list[0].secret).digest('hex').slice(0, 12)}`;
      } else {
        redacted += 1;
        source.secret = `h-${createHash('sha256').update(source.secret).digest('hex').slice(0, 12)}`;
        source.doc.list[0].secret = `h-${createHash('sha256').update(source.doc.list[0].secret).digest('hex').slice(0, 12)}`;
      }
      // Redacted in place (nested keys too): the row keeps jsonb's spacing; values compared compactly.
      expect(stringify(parse(row))).toBe(stringify(source));
    });
    expect(redacted).toBe(6000);
    expect(rows[0]).toContain('"big": 12345678901234567890.123456');
    expect(rows[0]).toContain('"price": 19.90');
    const capsule = JSON.parse(await readFile(out, 'utf8')) as CapsuleJson;
    const hash = createHash('sha256');
    for (const row of rows) hash.update(`${row}\n`);
    expect(capsule.integrity.tables.items).toEqual({ rows: 18000, sha256: hash.digest('hex') });
    const file = await readFile(out);
    expect(result.bytes).toBe(file.length);
    expect(result.sha256).toBe(createHash('sha256').update(file).digest('hex'));
  });

  dbTest('a raw export writes COPY bytes untouched, and .gz targets are gzip', async ({ db }) => {
    await db.query(schema);
    const out = join(dir, 'items.json.gz');
    const result = await exportCapsule({
      manifest,
      subject: { account_id: 'a1' },
      databaseUrl: db.url,
      out,
      sinceDays: 180,
      redaction: 'raw',
      gzipLevel: 1,
    });
    const gz = await readFile(out);
    expect(gz.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(result.bytes).toBe(gz.length);
    expect(result.sha256).toBe(createHash('sha256').update(gz).digest('hex'));
    const plain = join(dir, 'plain.json');
    await rm(plain, { force: true });
    await import('node:fs/promises').then((fs) => fs.writeFile(plain, gunzipSync(gz)));
    expect((await capsuleRowTexts(plain)).items).toEqual(await expectedRows(db));
    expect((await stat(out)).mode & 0o777).toBe(0o600);
  });

  dbTest(
    '--explain plans the graph and every table with the real graph keys, writes nothing',
    async ({ db }) => {
      await db.query(schema);
      const result = await explainExport({
        manifest,
        subject: { account_id: 'a1' },
        databaseUrl: db.url,
        sinceDays: 180,
      });
      expect(result.graph.size).toBe(1);
      expect(result.graph.plan).toMatch(/GroupAggregate|HashAggregate|Aggregate/);
      expect(result.tables.map((table) => table.name)).toEqual(['items']);
      expect(result.tables[0]!.plan).toContain('items i');
      // One subject: its keys are computed once (an InitPlan) and filter the table (settingsCtes).
      expect(result.tables[0]!.plan).toContain('InitPlan');
      expect(result.tables[0]!.plan).not.toContain('Function Scan on g');
      expect(await readdir(dir)).toEqual([]);
    },
  );
});
