import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';

import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { ParsedRedactionRule } from '../manifest/index.js';
import { createRowRedactor } from '../redaction/index.js';
import { type CapsuleHeaderInput, capsuleWritebackBytes, createCapsuleWriter } from './writer.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'capsule-writer-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const header: CapsuleHeaderInput = {
  app: 'shop',
  adapter: 'postgres-subject-graph.v1',
  exportedAt: '2026-11-21T23:45:40.535064+00:00',
  window: { sinceDays: 180, sinceAt: '2026-05-25T23:45:40.535064+00:00' },
  redaction: 'safe',
  source: {
    kind: 'postgres',
    databaseUrlEnv: 'SHOP_PROD_DATABASE_URL',
    exportedBy: 'replay-env',
    database: 'db:5432/shop',
  },
  tool: { name: 'replay-env', version: '0.1.0' },
  subject: { shop_id: 's1', customer_id: 'c1' },
  graph: [
    { shop_id: 's1', customer_id: 'c1', reasons: ['subject'] },
    { shop_id: 's1', customer_id: 'c2', reasons: ['note_author'] },
  ],
};

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** Feeds `text` to a table stream in the given chunk sizes. */
async function feed(
  stream: NodeJS.WritableStream & import('node:stream').Writable,
  text: string,
  sizes: number[],
) {
  const bytes = Buffer.from(text, 'utf8');
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const size of sizes) {
    if (offset >= bytes.length) break;
    chunks.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  if (offset < bytes.length) chunks.push(bytes.subarray(offset));
  await pipeline(Readable.from(chunks), stream);
}

describe('createCapsuleWriter', () => {
  it('writes the documented line layout, with integrity last', async () => {
    const path = join(dir, 'shop.json');
    const writer = await createCapsuleWriter(path, header);
    await feed(writer.tableStream('customers'), '{"name": "Ada"}\n{"name": "Bob"}\n', [5, 9, 100]);
    await feed(writer.tableStream('orders'), '', []);
    const result = await writer.finish();
    const text = await readFile(path, 'utf8');
    expect(text).toBe(
      [
        '{',
        '  "schemaVersion": 1,',
        '  "layout": "replay-env/rows-per-line/v1",',
        '  "app": "shop",',
        '  "adapter": "postgres-subject-graph.v1",',
        '  "exportedAt": "2026-11-21T23:45:40.535064+00:00",',
        '  "window": {"sinceDays":180,"sinceAt":"2026-05-25T23:45:40.535064+00:00"},',
        '  "redaction": "safe",',
        '  "source": {"kind":"postgres","databaseUrlEnv":"SHOP_PROD_DATABASE_URL","exportedBy":"replay-env","database":"db:5432/shop"},',
        '  "tool": {"name":"replay-env","version":"0.1.0"},',
        '  "subject": {"shop_id":"s1","customer_id":"c1"},',
        '  "graph": [',
        '    {"shop_id":"s1","customer_id":"c1","reasons":["subject"]},',
        '    {"shop_id":"s1","customer_id":"c2","reasons":["note_author"]}',
        '  ],',
        '  "tables": {',
        '    "customers": [',
        '      {"name": "Ada"},',
        '      {"name": "Bob"}',
        '    ],',
        '    "orders": [',
        '    ]',
        '  },',
        `  "integrity": {"algorithm":"sha256-rows-v1","tables":{"customers":{"rows":2,"sha256":"${sha('{"name": "Ada"}\n{"name": "Bob"}\n')}"},"orders":{"rows":0,"sha256":"${sha('')}"}}}`,
        '}',
        '',
      ].join('\n'),
    );
    expect(JSON.parse(text).tables.customers).toEqual([{ name: 'Ada' }, { name: 'Bob' }]);
    expect(result).toEqual({
      path,
      bytes: Buffer.byteLength(text),
      sha256: sha(text),
      rowCounts: { customers: 2, orders: 0 },
      integrity: JSON.parse(text).integrity,
    });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['shop.json']);
  });

  it('writes an empty tables object and an empty graph as valid JSON', async () => {
    const path = join(dir, 'empty.json');
    const writer = await createCapsuleWriter(path, { app: 'a', adapter: 'x', subject: {}, graph: [] });
    await writer.finish();
    const capsule = JSON.parse(await readFile(path, 'utf8'));
    expect(capsule).toEqual({
      schemaVersion: 1,
      layout: 'replay-env/rows-per-line/v1',
      app: 'a',
      adapter: 'x',
      subject: {},
      graph: [],
      tables: {},
      integrity: { algorithm: 'sha256-rows-v1', tables: {} },
    });
  });

  it('frames rows identically however the bytes are chunked (multibyte text, redaction)', async () => {
    const rows = [
      '{"id": 1, "note": "🚀 ünï \\"q\\"", "secret": "s1"}',
      '{"id": 2, "note": "plain"}',
      '{"id": 3, "deep": [{"secret": "s3"}], "big": 12345678901234567890.123456}',
      '{"id": 4, "note": "secret"}',
    ];
    const text = rows.map((row) => `${row}\n`).join('');
    const rules = [
      { fields: ['secret'], action: 'empty', prefix: 'replay-', recursive: true },
    ] as ParsedRedactionRule[];
    const redactor = createRowRedactor(rules, 'items');
    const write = async (name: string, sizes: number[], holdReads = false) => {
      const path = join(dir, name);
      const writer = await createCapsuleWriter(path, header);
      await feed(writer.tableStream('items', { redactor, holdReads }), text, sizes);
      await writer.finish();
      return readFile(path, 'utf8');
    };
    const reference = await write('reference.json', [text.length]);
    expect(JSON.parse(reference).tables.items).toEqual([
      { id: 1, note: '🚀 ünï "q"', secret: '' },
      { id: 2, note: 'plain' },
      { id: 3, deep: [{ secret: '' }], big: expect.any(Number) },
      { id: 4, note: 'secret' },
    ]);
    // Spliced in place at any depth: spacing and the exact number text kept.
    expect(reference).toContain(
      '      {"id": 3, "deep": [{"secret": ""}], "big": 12345678901234567890.123456},\n',
    );
    expect(reference).toContain('      {"id": 2, "note": "plain"},\n');
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 20 }), async (sizes) => {
        expect(await write(`chunked-${run++}.json`, sizes)).toBe(reference);
        // Short reads held and framed together: the same bytes.
        expect(await write(`held-${run++}.json`, sizes, true)).toBe(reference);
      }),
      { numRuns: 40 },
    );
  });

  it('a spooled table (second connection) gives the same capsule bytes as streamed tables', async () => {
    const tables = {
      a: '{"id": 1, "secret": "s"}\n{"id": 2, "note": "🚀"}\n',
      b: Array.from({ length: 3000 }, (_, i) => `{"id": ${i}, "deep": {"secret": "${i}"}}\n`).join(''),
      c: '',
      d: '{"id": 4}\n',
    };
    const redactor = createRowRedactor(
      [{ fields: ['secret'], action: 'hash', prefix: 'p-', recursive: true }] as ParsedRedactionRule[],
      't',
    );
    const streamed = join(dir, 'streamed.json');
    const reference = await createCapsuleWriter(streamed, header);
    for (const [name, text] of Object.entries(tables))
      await feed(reference.tableStream(name, { redactor }), text, [7, 100, 5000]);
    const expected = await reference.finish();
    // b, c and d spooled at once (open together, filled in another order), a streamed, then appended in order.
    const mixed = join(dir, 'sub', 'mixed.json');
    const writer = await createCapsuleWriter(mixed, header);
    const spools = ['b', 'c', 'd'].map((name) => writer.spoolTable(name, { redactor }));
    for (const index of [2, 0, 1]) {
      const name = ['b', 'c', 'd'][index]!;
      await feed(spools[index]!.stream, tables[name as 'b'], [4096]);
    }
    await feed(writer.tableStream('a', { redactor }), tables.a, [3]);
    for (const spool of spools) await writer.appendSpool(await spool.finished());
    const result = await writer.finish();
    expect(await readFile(mixed, 'utf8')).toBe(await readFile(streamed, 'utf8'));
    expect(result.integrity).toEqual(expected.integrity);
    expect(result.rowCounts).toEqual({ a: 2, b: 3000, c: 0, d: 1 });
    expect(await readdir(join(dir, 'sub'))).toEqual(['mixed.json']); // spool files removed
  });

  it('a spool promoted mid-table (its turn came while it was read) gives the same bytes', async () => {
    const rows = Array.from({ length: 4000 }, (_, i) => `{"id": ${i}, "secret": "${i}", "n": "ü"}\n`).join(
      '',
    );
    const redactor = createRowRedactor(
      [{ fields: ['secret'], action: 'hash', prefix: 'p-' }] as ParsedRedactionRule[],
      't',
    );
    const streamed = join(dir, 'streamed.json');
    const reference = await createCapsuleWriter(streamed, header);
    await feed(reference.tableStream('a', { redactor }), '{"id": 1}\n', [5]);
    await feed(reference.tableStream('b', { redactor }), rows, [70_000]);
    const expected = await reference.finish();

    const promotedPath = join(dir, 'sub', 'promoted.json');
    const writer = await createCapsuleWriter(promotedPath, header);
    // Short reads held (as the export's tables do): the same bytes, promoted mid-table.
    const spool = writer.spoolTable('b', { redactor, holdReads: true });
    const bytes = Buffer.from(rows, 'utf8');
    const half = 70_001; // mid-row
    spool.stream.write(bytes.subarray(0, half));
    await feed(writer.tableStream('a', { redactor }), '{"id": 1}\n', [5]);
    await writer.promoteSpool(spool);
    expect((await readdir(join(dir, 'sub'))).filter((name) => name.includes('.spool-'))).toEqual([]);
    await feed(spool.stream, bytes.subarray(half).toString('utf8'), [30_000]);
    const done = await spool.finished();
    expect(done.promoted).toBe(true);
    await writer.appendSpool(done);
    const result = await writer.finish();
    expect(await readFile(promotedPath, 'utf8')).toBe(await readFile(streamed, 'utf8'));
    expect(result.integrity).toEqual(expected.integrity);
    expect(await readdir(join(dir, 'sub'))).toEqual(['promoted.json']);
  });

  it('a discarded spool leaves no file', async () => {
    const writer = await createCapsuleWriter(join(dir, 'x.json'), header);
    const spool = writer.spoolTable('t');
    await feed(spool.stream, '{"a": 1}\n', [3]);
    expect((await readdir(dir)).filter((name) => name.includes('.spool-'))).toHaveLength(1);
    await spool.discard();
    await writer.abort();
    expect(await readdir(dir)).toEqual([]);
  });

  it.each([
    ['NULL', '{"a": 1}\n\n', 'tables[items]: row 2 is NULL'],
    ['not a JSON object', '[1, 2]\n', 'tables[items]: row 1 is not a JSON object'],
  ])('refuses a %s row and leaves no file', async (_kind, text, message) => {
    const path = join(dir, 'bad.json');
    const writer = await createCapsuleWriter(path, header);
    await expect(feed(writer.tableStream('items'), text, [3])).rejects.toThrow(message);
    await writer.abort();
    expect(await readdir(dir)).toEqual([]);
  });

  it('abort removes the temporary file and nothing exists under the target', async () => {
    const path = join(dir, 'sub', 'aborted.json');
    const writer = await createCapsuleWriter(path, header);
    await writer.writeTable('t', ['{"a": 1}']);
    expect((await readdir(join(dir, 'sub'))).some((name) => name.endsWith('.tmp'))).toBe(true);
    await writer.abort();
    await writer.abort();
    expect(await readdir(join(dir, 'sub'))).toEqual([]);
    await expect(writer.finish()).rejects.toThrow('capsule writer is aborted');
  });

  it('gzips .gz targets; integrity and row counts are over the uncompressed rows', async () => {
    const path = join(dir, 'shop.json.gz');
    const writer = await createCapsuleWriter(path, header, { gzipLevel: 1 });
    const rows = Array.from({ length: 5000 }, (_, index) => ({ id: index, text: 'x'.repeat(index % 50) }));
    await writer.writeTable('items', rows);
    const result = await writer.finish();
    const gz = await readFile(path);
    expect(result.bytes).toBe(gz.length);
    expect(result.sha256).toBe(createHash('sha256').update(gz).digest('hex'));
    const capsule = JSON.parse(gunzipSync(gz).toString('utf8'));
    expect(capsule.tables.items).toEqual(rows);
    expect(result.rowCounts).toEqual({ items: 5000 });
    const expected = createHash('sha256');
    for (const row of rows) expected.update(`${JSON.stringify(row)}\n`);
    expect(capsule.integrity.tables.items.sha256).toBe(expected.digest('hex'));
  });

  it('refuses to open a second table while one is open, or a table twice', async () => {
    const writer = await createCapsuleWriter(join(dir, 'x.json'), header);
    writer.tableStream('a');
    expect(() => writer.tableStream('b')).toThrow('table a is still open');
    await writer.abort();
    const again = await createCapsuleWriter(join(dir, 'y.json'), header);
    await again.writeTable('a', []);
    await expect(again.writeTable('a', [])).rejects.toThrow('table a was already written');
    await again.abort();
  });
});

describe('capsuleWritebackBytes', () => {
  it('is 32 MiB unless REPLAY_ENV_WRITEBACK_MIB says otherwise; 0 (or nonsense) turns it off', () => {
    expect(capsuleWritebackBytes({})).toBe(32 << 20);
    expect(capsuleWritebackBytes({ REPLAY_ENV_WRITEBACK_MIB: '16' })).toBe(16 << 20);
    expect(capsuleWritebackBytes({ REPLAY_ENV_WRITEBACK_MIB: '0' })).toBe(0);
    expect(capsuleWritebackBytes({ REPLAY_ENV_WRITEBACK_MIB: 'x' })).toBe(0);
  });
});
