import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { describe, expect, it } from 'vitest';

import { copyOut } from '../../../src/export/copy-out.js';
import { connect as connectTo } from '../../../src/postgres/connect.js';
import type { DatabaseUrl } from '../../../src/postgres/database-url.js';
import { dbTest } from '../../setup/database.js';
import { hasOpenssl, startTlsOnlyServer } from '../../setup/tls-server.js';

const opensslPresent = await hasOpenssl();
if (!opensslPresent) console.warn('SKIPPED: the COPY reader over TLS needs the openssl CLI (certificates)');

async function connect(url: DatabaseUrl): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url.connectionString() });
  client.on('error', () => {}); // a killed backend is asserted through the COPY's rejection
  await client.connect();
  return client;
}

/** Runs `body` on a fresh client, ended afterwards. */
async function withClient(url: DatabaseUrl, body: (client: pg.Client) => Promise<void>): Promise<void> {
  const client = await connect(url);
  try {
    await body(client);
  } finally {
    await client.end();
  }
}

/** The reader gives `client` the same bytes as pg-copy-streams' copyTo for `varied`, and more than 5 MB. */
async function expectSameBytesAsCopyStreams(client: pg.Client): Promise<Writable> {
  const ours = collector();
  await copyOut(client, varied, ours.stream);
  const theirs = collector();
  await pipeline(client.query(copyStreams.to(varied)), theirs.stream);
  expect(ours.bytes()).toBeGreaterThan(5_000_000);
  expect(ours.text().equals(theirs.text())).toBe(true);
  return ours.stream;
}

/** Collects what it is given; each write completes after `delayMs` (a slow consumer) when set. */
function collector(options: { delayMs?: number; highWaterMark?: number; failAfter?: number } = {}) {
  const chunks: Buffer[] = [];
  let bytes = 0;
  const stream = new Writable({
    highWaterMark: options.highWaterMark ?? 1 << 16,
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      bytes += chunk.length;
      if (options.failAfter !== undefined && bytes > options.failAfter) {
        callback(new Error('consumer failed'));
        return;
      }
      if (options.delayMs) setTimeout(callback, options.delayMs);
      else callback();
    },
  });
  return { stream, bytes: () => bytes, text: () => Buffer.concat(chunks) };
}

// Rows of many sizes, a few longer than a socket read (so payloads span reads), multibyte text.
const varied = `copy (select i || ' ' || repeat(chr(97 + i % 26) || 'ü', case when i % 997 = 0 then 150000 else i % 300 end)
  from generate_series(1, 20000) i) to stdout`;
// Not folded at plan time: the division by zero happens when row `row` is produced.
const failingAt = (row: number) =>
  `copy (select case when i = ${row} then (1 / (i - ${row}))::text else repeat('x', 200) end
   from generate_series(1, 100000) i) to stdout`;
const long = `copy (select repeat('x', 200) from generate_series(1, 100000)) to stdout`;

describe('COPY TO STDOUT reader on the pg connection', () => {
  dbTest('gives the same bytes as pg-copy-streams, and the client reads on afterwards', async ({ db }) => {
    await withClient(db.url, async (client) => {
      const ours = await expectSameBytesAsCopyStreams(client);
      expect(ours.writableFinished).toBe(true);
      expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    });
  });

  dbTest('a server error mid-COPY rejects with the error and leaves the client usable', async ({ db }) => {
    await withClient(db.url, async (client) => {
      const sink = collector();
      const error = await copyOut(client, failingAt(60000), sink.stream).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: '22012' }); // division_by_zero, parsed by pg
      expect(sink.bytes()).toBeGreaterThan(100_000); // rows had been written: the error came mid-stream
      expect(sink.stream.destroyed).toBe(true);
      expect((await client.query('select 2 as two')).rows).toEqual([{ two: 2 }]);
    });
  });

  dbTest('a slow consumer holds the socket back: Node never buffers the whole table', async ({ db }) => {
    await withClient(db.url, async (client) => {
      const sink = collector({ delayMs: 1, highWaterMark: 1 << 14 });
      let held = 0;
      const socket = client.connection.stream as unknown as { readableLength: number };
      const probe = setInterval(() => {
        held = Math.max(held, socket.readableLength + sink.stream.writableLength);
      }, 2);
      await copyOut(
        client,
        `copy (select repeat('y', 500) from generate_series(1, 40000)) to stdout`,
        sink.stream,
      );
      clearInterval(probe);
      expect(sink.bytes()).toBe(40000 * 501);
      // 20 MB went through; what waited in Node at any time stayed near one socket read + the sink's buffer.
      expect(held).toBeLessThan(1 << 20);
    });
  });

  dbTest('a killed backend mid-COPY rejects (no hang)', async ({ db }) => {
    const client = await connect(db.url);
    const killer = await connect(db.url);
    try {
      const pid = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
      const sink = collector({ delayMs: 5, highWaterMark: 1 << 14 });
      const copy = copyOut(client, long, sink.stream).catch((caught: unknown) => caught);
      while (sink.bytes() < 100_000) await new Promise((resolve) => setTimeout(resolve, 5));
      await killer.query('select pg_terminate_backend($1)', [pid]);
      const error = await copy;
      expect(error).toBeInstanceOf(Error);
      expect(String((error as Error).message)).toMatch(/terminat/i);
      expect(sink.stream.destroyed).toBe(true);
    } finally {
      await killer.end();
      await client.end().catch(() => {});
    }
  });

  dbTest('a connection destroyed by the client mid-COPY rejects (no hang)', async ({ db }) => {
    const client = await connect(db.url);
    const sink = collector({ delayMs: 5, highWaterMark: 1 << 14 });
    const copy = copyOut(client, long, sink.stream).catch((caught: unknown) => caught);
    while (sink.bytes() < 100_000) await new Promise((resolve) => setTimeout(resolve, 5));
    client.connection.stream.destroy();
    const error = await copy;
    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).message)).toMatch(/terminated/i);
  });

  dbTest('a consumer that fails rejects with its error, thrown nowhere else', async ({ db }) => {
    const client = await connect(db.url);
    try {
      const sink = collector({ failAfter: 50_000 });
      const error = await copyOut(client, long, sink.stream).catch((caught: unknown) => caught);
      expect((error as Error).message).toBe('consumer failed');
    } finally {
      // Stuck mid-COPY, as with pg-copy-streams: the export closes such a client by destroying its socket.
      client.connection.stream.destroy();
    }
  });

  it.skipIf(!opensslPresent)('reads the same bytes over TLS (the socket pg swapped in)', async () => {
    const tls = await startTlsOnlyServer();
    try {
      const client = await connectTo(tls.url('127.0.0.1', 'sslmode=require'), { action: 'test' });
      try {
        await expectSameBytesAsCopyStreams(client);
        const { rows } = await client.query<{ ssl: boolean }>(
          'select ssl from pg_stat_ssl where pid = pg_backend_pid()',
        );
        expect(rows).toEqual([{ ssl: true }]);
      } finally {
        await client.end();
      }
    } finally {
      await tls.stop();
    }
  });
});
