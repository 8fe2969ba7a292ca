import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { beforeAll, describe, expect, it } from 'vitest';

import { openCapsule } from '../../../src/capsule/index.js';
import { CapsuleError, FileError } from '../../../src/errors.js';
import {
  capsuleDir,
  genericCapsuleText,
  integrityOf,
  lineCapsuleText,
  type TestCapsule,
  writeCapsuleFile,
} from '../../setup/capsules.js';
import { repoRoot } from '../../setup/cli.js';

const originalCapsule = join(repoRoot, 'test/fixtures/original-tool/capsule.json');

const sample: TestCapsule = {
  extra: {
    exportedAt: '2026-11-21T23:45:40.535064+00:00',
    window: { sinceDays: 180, sinceAt: '2026-05-25T23:45:40.535064+00:00' },
    redaction: 'safe',
    source: { kind: 'postgres', databaseUrlEnv: 'SHOP_PROD_DATABASE_URL', database: 'db:5432/shop' },
    unknownKey: { ignored: true },
  },
  tables: {
    customers: [
      '{"name": "Ada \\"the first\\"", "shop_id": "s1", "customer_id": "c1", "total": 19.90}',
      { name: 'Bob\ttab\nnewline 🎉', shop_id: 's1', customer_id: 'c2' },
    ],
    orders: [],
    order_notes: [{ id: 1, body: 'x' }],
  },
};

async function readAll(path: string) {
  const capsule = await openCapsule(path);
  const rows: { table: string; text: string }[] = [];
  for await (const row of capsule.rows()) rows.push(row);
  return { capsule, rows, summary: capsule.summary() };
}

let dir: string;
beforeAll(async () => {
  dir = await capsuleDir();
});

describe('line layout', () => {
  it('yields each row text exactly as written, verifies hashes, and reads the header', async () => {
    const text = lineCapsuleText(sample);
    const path = await writeCapsuleFile(dir, 'line.json', text);
    const { capsule, rows, summary } = await readAll(path);
    expect(capsule.header).toMatchObject({
      schemaVersion: 1,
      app: 'shop',
      layout: 'replay-env/rows-per-line/v1',
      subject: { shop_id: 's1', customer_id: 'c1' },
      graph: [{ shop_id: 's1', customer_id: 'c1', reasons: ['subject'] }],
      redaction: 'safe',
      window: { sinceDays: 180 },
    });
    expect(capsule.header).not.toHaveProperty('unknownKey');
    expect(rows.map((row) => row.table)).toEqual(['customers', 'customers', 'order_notes']);
    expect(rows[0]!.text).toBe(
      '{"name": "Ada \\"the first\\"", "shop_id": "s1", "customer_id": "c1", "total": 19.90}',
    );
    expect(JSON.parse(rows[1]!.text)).toEqual(sample.tables.customers![1]);
    expect(summary.rowCounts).toEqual({ customers: 2, orders: 0, order_notes: 1 });
    expect(summary.integrity).toEqual({ status: 'verified', problems: [] });
    expect(summary.file.bytes).toBe(Buffer.byteLength(text));
  });

  it('reads a gzip capsule by its magic bytes, whatever its name', async () => {
    const path = await writeCapsuleFile(dir, 'compressed.json', lineCapsuleText(sample), { gzip: true });
    const { rows, summary } = await readAll(path);
    expect(rows).toHaveLength(3);
    expect(summary.integrity.status).toBe('verified');
    expect(summary.file.bytes).toBe((await readFile(path)).length);
  });

  it("hashes the stored file unless batches() is asked not to; the rows' hashes are checked either way", async () => {
    for (const gzip of [false, true]) {
      const path = await writeCapsuleFile(dir, `hash-${gzip}.json`, lineCapsuleText(sample), { gzip });
      const stored = await readFile(path);
      const capsule = await openCapsule(path);
      for await (const _batch of capsule.batches()) void _batch;
      expect(capsule.summary().file).toEqual({
        bytes: stored.length,
        sha256: createHash('sha256').update(stored).digest('hex'),
        compressed: gzip,
      });
      for await (const _batch of capsule.batches({ fileHash: false })) void _batch;
      expect(capsule.summary().file).toEqual({ bytes: stored.length, compressed: gzip });
      expect(capsule.summary().integrity).toEqual({ status: 'verified', problems: [] });
      // A changed row still fails the trailer's hash without the file's.
      const edited = await writeCapsuleFile(
        dir,
        `edited-${gzip}.json`,
        lineCapsuleText(sample).replace('"Ada ', '"Eve '),
        { gzip },
      );
      const reading = async () => {
        for await (const _batch of (await openCapsule(edited)).batches({ fileHash: false })) void _batch;
      };
      await expect(reading()).rejects.toThrow(/sha256 of its rows does not match/);
    }
  });

  it('falls back to the generic parser when the file was pretty-printed again (jq)', async () => {
    const reformatted = `${JSON.stringify(JSON.parse(lineCapsuleText(sample)), null, 2)}\n`;
    expect(reformatted.split('\n')[2]).toBe('  "layout": "replay-env/rows-per-line/v1",');
    const path = await writeCapsuleFile(dir, 'jq.json', reformatted);
    const { capsule, rows, summary } = await readAll(path);
    expect(capsule.header.layout).toBe('generic');
    expect(rows.map((row) => JSON.parse(row.text) as unknown)).toEqual([
      JSON.parse(sample.tables.customers![0] as string),
      sample.tables.customers![1],
      sample.tables.order_notes![0],
    ]);
    expect(summary.integrity).toEqual({ status: 'counts-only', problems: [] });
  });
});

describe('generic capsules', () => {
  it("reads the original tool's capsule (tables before subject, pretty-printed)", async () => {
    const { capsule, rows, summary } = await readAll(originalCapsule);
    const original = JSON.parse(await readFile(originalCapsule, 'utf8')) as {
      tables: Record<string, unknown[]>;
    };
    expect(capsule.header).toMatchObject({
      app: 'shop',
      layout: 'generic',
      subject: { shop_id: 's1', customer_id: 'c1' },
      redaction: 'safe',
      window: { sinceDays: 3650 },
    });
    expect(capsule.header.graph).toHaveLength(2);
    expect(summary.rowCounts).toEqual({ orders: 3, customers: 2, order_notes: 2 });
    expect(summary.integrity.status).toBe('counts-only');
    const byTable: Record<string, unknown[]> = {};
    for (const row of rows) (byTable[row.table] ??= []).push(JSON.parse(row.text));
    expect(byTable).toEqual(original.tables);
    expect(rows[0]!.text).toContain('"total":19.9,'); // exact number text, compact
  });

  it('keeps the exact text of numbers', async () => {
    const text =
      '{"tables": {"t": [{"n": 19.90, "big": 12345678901234567890123, "e": 1E+2, "s": "\\u00e9"}]}, "schemaVersion": 1, "app": "a", "adapter": "b", "subject": {"k": "v"}, "graph": []}';
    const { rows } = await readAll(await writeCapsuleFile(dir, 'numbers.json', text));
    expect(rows).toEqual([
      { table: 't', text: '{"n":19.90,"big":12345678901234567890123,"e":1E+2,"s":"é"}' },
    ]);
  });

  it('reads a generic gzip capsule and can iterate rows twice', async () => {
    const path = await writeCapsuleFile(dir, 'generic.json.gz', genericCapsuleText(sample), { gzip: true });
    const capsule = await openCapsule(path);
    for (let pass = 0; pass < 2; pass++) {
      let count = 0;
      for await (const _row of capsule.rows()) count++;
      expect(count).toBe(3);
    }
    expect(capsule.summary().rowCounts).toEqual({ customers: 2, orders: 0, order_notes: 1 });
  });
});

describe('broken capsules', () => {
  const line = lineCapsuleText(sample);
  const generic = genericCapsuleText(sample);
  const editedRow = line.replace('"body":"x"', '"body":"y"');
  const gz = gzipSync(line);
  const corruptGz = Buffer.from(gz);
  for (let i = 20; i < corruptGz.length - 10; i += 7) corruptGz[i] = corruptGz[i]! ^ 0x5a;

  const cases: [string, string | Buffer, RegExp, string?][] = [
    ['malformed JSON', '{"schemaVersion": 1, "app": "shop",, }', /is not valid JSON/, 'capsule_corrupt'],
    [
      'truncated in the middle of a row (line layout)',
      line.slice(0, line.indexOf('"customer_id":"c2"')),
      /is truncated: line 18 is incomplete/,
      'capsule_truncated',
    ],
    [
      'a broken line in the middle (line layout)',
      line.replace('      {"id":1,"body":"x"}', '      garbage'),
      /is corrupt at line 23: a row of "order_notes" is not a JSON object on one line/,
      'capsule_corrupt',
    ],
    [
      'truncated after the tables (line layout)',
      line.slice(0, line.indexOf('  "integrity"')),
      /is truncated: it ends at line \d+ in the integrity trailer/,
      'capsule_truncated',
    ],
    [
      'truncated in the middle of a row (generic)',
      generic.slice(0, generic.indexOf('"Bob')),
      /truncated/,
      'capsule_truncated',
    ],
    [
      'truncated after the tables (generic)',
      generic.slice(0, generic.indexOf('  "graph"')),
      /truncated/,
      'capsule_truncated',
    ],
    ['gzip-corrupt', corruptGz, /not a valid gzip file|truncated|not valid JSON/],
    [
      'gzip-truncated',
      gz.subarray(0, gz.length - 30),
      /truncated: the gzip stream ends early/,
      'capsule_truncated',
    ],
    ['non-object top level', '[{"schemaVersion": 1}]', /the top level is not a JSON object/],
    [
      'wrong schemaVersion',
      generic.replace('"schemaVersion": 1', '"schemaVersion": 2'),
      /\/schemaVersion: must be 1/,
    ],
    ['missing subject', generic.replace(/"subject": \{[^}]*\},?/, ''), /missing required property "subject"/],
    [
      'missing graph',
      JSON.stringify({ schemaVersion: 1, app: 'a', adapter: 'b', subject: { k: 'v' }, tables: {} }),
      /missing required property "graph"/,
    ],
    [
      'missing tables',
      JSON.stringify({ schemaVersion: 1, app: 'a', adapter: 'b', subject: { k: 'v' }, graph: [] }),
      /missing required property "tables"/,
    ],
    [
      'a row that is not an object (generic)',
      JSON.stringify({
        schemaVersion: 1,
        app: 'a',
        adapter: 'b',
        subject: { k: 'v' },
        graph: [],
        tables: { t: [{}, 5] },
      }),
      /\/tables\/t\/1: row is not an object/,
    ],
    [
      'a row that is not an object (line layout)',
      lineCapsuleText({ tables: { t: ['{"a":1}', '[1]'] } }),
      /corrupt at line \d+: a row of "t" is not a JSON object/,
    ],
    [
      'integrity hash mismatch (one row edited)',
      editedRow,
      /failed its integrity check: table "order_notes": sha256 of its rows does not match/,
      'capsule_integrity_failed',
    ],
    [
      'count mismatch',
      lineCapsuleText({
        ...sample,
        integrity: {
          ...integrityOf(sample.tables),
          tables: {
            ...(integrityOf(sample.tables).tables as object),
            orders: { rows: 4, sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
          },
        },
      }),
      /table "orders" has 0 rows, the integrity trailer says 4/,
      'capsule_integrity_failed',
    ],
  ];

  it.each(cases)('%s → CapsuleError', async (_name, content, message, code) => {
    const path = await writeCapsuleFile(dir, `broken-${Math.random().toString(36).slice(2)}.json`, content);
    const error = await readAll(path).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(CapsuleError);
    expect((error as CapsuleError).message).toMatch(message);
    expect((error as CapsuleError).message).not.toContain('\n');
    expect((error as CapsuleError).exitCode).toBe(6);
    if (code) expect((error as CapsuleError).code).toBe(code);
  });

  it('an integrity failure is also in the summary', async () => {
    const path = await writeCapsuleFile(dir, 'edited.json', editedRow);
    const capsule = await openCapsule(path);
    await expect(async () => {
      for await (const _row of capsule.rows());
    }).rejects.toThrow(CapsuleError);
    expect(capsule.summary().integrity.status).toBe('failed');
  });

  it('a missing file is a FileError', async () => {
    await expect(openCapsule(join(dir, 'nope.json'))).rejects.toThrow(FileError);
    await expect(openCapsule(join(dir, 'nope.json'))).rejects.toThrow(/does not exist/);
  });
});
