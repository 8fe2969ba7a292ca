import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';

import type pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { TableSpoolWriter } from '../capsule/table-spool.js';
import { type CapsuleHeaderInput, type CapsuleWriter, createCapsuleWriter } from '../capsule/writer.js';
import { exportTables, type LaneTable } from './table-lanes.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'table-lanes-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const header: CapsuleHeaderInput = {
  app: 'lanes',
  subject: { id: '1' },
  adapter: 'postgres-subject-graph.v1',
  exportedAt: '2026-12-01T00:00:00Z',
  graph: [{ id: '1', reasons: ['subject'] }],
};
const rowsOf = (table: string, count: number) =>
  Buffer.from(Array.from({ length: count }, (_, i) => `{"t": "${table}", "i": ${i}}\n`).join(''));
const data = { a: rowsOf('a', 500), b: rowsOf('b', 3000), c: rowsOf('c', 200) };
/** Stand-ins for connections: the scheduler only hands them to `copy` (and cuts them on failure). */
const fakeClient = () => ({ connection: { stream: { destroy() {} } } }) as unknown as pg.Client;

async function write(destination: Writable, bytes: Buffer): Promise<void> {
  await new Promise<void>((resolve, reject) => destination.write(bytes, (e) => (e ? reject(e) : resolve())));
}
async function end(destination: Writable): Promise<void> {
  await new Promise<void>((resolve) => destination.end(resolve));
}

async function run(
  path: string,
  clients: number,
  copy: (name: keyof typeof data, destination: Writable) => Promise<void>,
) {
  const writer = await createCapsuleWriter(path, header);
  const promoted: string[] = [];
  const spy: CapsuleWriter = {
    ...writer,
    promoteSpool: (spool) => {
      promoted.push(spool.name);
      return writer.promoteSpool(spool);
    },
  };
  const tables: LaneTable[] = (['a', 'b', 'c'] as const).map((name) => ({
    name,
    options: {},
    copy: (_client, destination) => copy(name, destination),
  }));
  try {
    await exportTables({
      clients: Array.from({ length: clients }, fakeClient),
      writer: spy,
      tables,
      onTableDone: () => {},
    });
  } catch (error) {
    await writer.abort(); // as the export service does
    throw error;
  }
  await writer.finish();
  return { text: await readFile(path, 'utf8'), promoted };
}

describe('lane scheduler', () => {
  it('a read-ahead table whose turn comes mid-read is written on into the capsule: same bytes', async () => {
    const reference = await run(join(dir, 'one.json'), 1, async (name, destination) => {
      await write(destination, data[name]);
      await end(destination);
    });
    let aDone: () => void = () => {};
    const aFinished = new Promise<void>((resolve) => (aDone = resolve));
    // c (read ahead once a is done) ends before b goes on, so only b is mid-read at its turn, however
    // slow the machine (a c still reading then would be promoted too, with the same bytes).
    let cDone: () => void = () => {};
    const cFinished = new Promise<void>((resolve) => (cDone = resolve));
    const half = 40_001; // mid-row
    const two = await run(join(dir, 'two.json'), 2, async (name, destination) => {
      if (name === 'b') {
        await write(destination, data.b.subarray(0, half));
        await aFinished;
        await cFinished;
        await new Promise((resolve) => setTimeout(resolve, 50)); // the promotion runs meanwhile
        expect((await readdir(dir)).filter((file) => file.includes('.spool-'))).toHaveLength(1); // c's
        await write(destination, data.b.subarray(half));
      } else await write(destination, data[name]);
      await end(destination);
      if (name === 'a') aDone();
      if (name === 'c') cDone();
    });
    expect(two.promoted).toEqual(['b']);
    expect(reference.promoted).toEqual([]);
    expect(two.text).toBe(reference.text);
    expect(await readdir(dir)).toEqual(['one.json', 'two.json']);
  });

  it('an append that fails cuts every lane and is the error thrown; no capsule, no spool', async () => {
    // Lanes do not wait for appends (table-lanes.ts): the failure must still stop the lane that has
    // gone on to its next table (here c, which would otherwise wait forever).
    const path = join(dir, 'append.json');
    const writer = await createCapsuleWriter(path, header);
    const spy: CapsuleWriter = {
      ...writer,
      appendSpool: () => Promise.reject(new Error('append of b failed')),
    };
    let aGo: () => void = () => {};
    const aMayEnd = new Promise<void>((resolve) => (aGo = resolve));
    const cut: string[] = [];
    let cutC: (error: Error) => void = () => {};
    const cWaits = new Promise<void>((_, reject) => (cutC = reject));
    const clients = ['first', 'second'].map(
      (name) =>
        ({
          name,
          connection: {
            stream: {
              destroy: () => {
                cut.push(name);
                cutC(new Error(`connection ${name} cut`));
              },
            },
          },
        }) as unknown as pg.Client,
    );
    const tables: LaneTable[] = (['a', 'b', 'c'] as const).map((name) => ({
      name,
      options: {},
      copy: async (_client, destination) => {
        if (name === 'a') await aMayEnd;
        await write(destination, data[name]);
        if (name === 'b') aGo(); // b is in its spool: a ends, b's turn comes, its append fails
        if (name === 'c') await cWaits;
        await end(destination);
      },
    }));
    const exported = exportTables({ clients, writer: spy, tables, onTableDone: () => {} });
    await expect(exported).rejects.toThrow('append of b failed');
    await writer.abort();
    expect(cut.sort()).toEqual(['first', 'second']);
    expect(await readdir(dir)).toEqual([]);
  });

  it('a promoted table that then fails leaves no capsule and no spool', async () => {
    let aDone: () => void = () => {};
    const aFinished = new Promise<void>((resolve) => (aDone = resolve));
    const failed = run(join(dir, 'failed.json'), 2, async (name, destination) => {
      if (name === 'b') {
        await write(destination, data.b.subarray(0, 1000));
        await aFinished;
        await new Promise((resolve) => setTimeout(resolve, 50));
        throw new Error('COPY of b failed');
      }
      await write(destination, data[name]);
      await end(destination);
      if (name === 'a') aDone();
    });
    await expect(failed).rejects.toThrow('COPY of b failed');
    expect(await readdir(dir)).toEqual([]);
  });

  /** Tables a, b, c, with a the prefix the caller completes (`close`) and writes (`write`) itself. */
  async function runWithPrefix(path: string, close: () => Promise<void>, events: string[]) {
    const writer = await createCapsuleWriter(path, header);
    const kept = new Map<string, TableSpoolWriter>();
    let cRead: () => void = () => {};
    const cWasRead = new Promise<void>((resolve) => (cRead = resolve));
    const tables: LaneTable[] = (['a', 'b', 'c'] as const).map((name) => ({
      name,
      options: {},
      keepOpen: name === 'a',
      copy: async (_client, destination) => {
        await write(destination, data[name]);
        if (name !== 'a') await end(destination);
        events.push(`read ${name}`);
        if (name === 'c') cRead();
      },
    }));
    const written = exportTables({
      clients: [fakeClient()],
      writer,
      tables,
      kept,
      onTableDone: () => {},
      prefix: {
        count: 1,
        close,
        write: async () => {
          // Only once c is read: the lane that closed the prefix must not wait for its write.
          await cWasRead;
          events.push('write a');
          const spool = kept.get('a')!;
          kept.delete('a');
          spool.stream.end();
          await writer.appendSpool(await spool.finished());
        },
      },
    });
    try {
      await written;
    } catch (error) {
      await writer.abort();
      throw error;
    }
    await writer.finish();
    return readFile(path, 'utf8');
  }

  it('a prefix is written by the caller after its close, before any later table; its lane goes on meanwhile', async () => {
    const reference = await run(join(dir, 'one.json'), 1, async (name, destination) => {
      await write(destination, data[name]);
      await end(destination);
    });
    const events: string[] = [];
    const text = await runWithPrefix(join(dir, 'prefix.json'), async () => void events.push('close'), events);
    expect(events).toEqual(['read a', 'close', 'read b', 'read c', 'write a']);
    expect(text).toBe(reference.text);
    expect(await readdir(dir)).toEqual(['one.json', 'prefix.json']);
  });

  it('a close that fails is the error thrown; no capsule, no spool', async () => {
    const events: string[] = [];
    const failing = () => Promise.reject(new Error('closure of a failed'));
    await expect(runWithPrefix(join(dir, 'failed.json'), failing, events)).rejects.toThrow(
      'closure of a failed',
    );
    expect(events).toEqual(['read a']);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('lane scheduler, a table in pieces', () => {
  /** b's rows cut at row `cuts` into pieces (capsule/table-pieces.ts), between a and c. */
  async function runPieces(
    path: string,
    cuts: readonly number[],
    copy: (piece: number, bytes: Buffer, destination: Writable) => Promise<void>,
  ) {
    const lines = data.b.toString().split(/(?<=\n)/);
    const bounds = [0, ...cuts, lines.length];
    const pieces = bounds.slice(1).map((end, k) => Buffer.from(lines.slice(bounds[k], end).join('')));
    const writer = await createCapsuleWriter(path, header);
    const promoted: string[] = [];
    const spy: CapsuleWriter = {
      ...writer,
      promoteSpool: (spool) => {
        promoted.push(`${spool.name}${spool.piece ? `:${spool.piece.continues}` : ''}`);
        return writer.promoteSpool(spool);
      },
    };
    const done: Array<[string, number]> = [];
    const tables: LaneTable[] = [
      { name: 'a', options: {}, copy: (_c, destination) => copy(-1, data.a, destination) },
      ...pieces.map((bytes, k) => ({
        name: 'b',
        options: { piece: { continues: k > 0, more: k < pieces.length - 1 } },
        copy: (_c: pg.Client, destination: Writable) => copy(k, bytes, destination),
      })),
      { name: 'c', options: {}, copy: (_c, destination) => copy(-2, data.c, destination) },
    ];
    try {
      await exportTables({
        clients: [fakeClient(), fakeClient()],
        writer: spy,
        tables,
        onTableDone: (name, rows) => done.push([name, rows]),
      });
    } catch (error) {
      await writer.abort();
      throw error;
    }
    await writer.finish();
    return { text: await readFile(path, 'utf8'), promoted, done };
  }
  const whole = () =>
    run(join(dir, 'whole.json'), 1, async (name, destination) => {
      await write(destination, data[name]);
      await end(destination);
    });
  const plain = async (_piece: number, bytes: Buffer, destination: Writable) => {
    await write(destination, bytes);
    await end(destination);
  };

  it('pieces read in any order of completion give the bytes and sha256-rows-v1 of the table read whole', async () => {
    const reference = await whole();
    // The first piece ends last: the later ones wait whole in their spools, then are appended.
    let laterDone = 0;
    let release: () => void = () => {};
    const later = new Promise<void>((resolve) => (release = resolve));
    const slowFirst = await runPieces(
      join(dir, 'slow.json'),
      [1000, 2200],
      async (piece, bytes, destination) => {
        if (piece === 0) {
          await write(destination, bytes.subarray(0, 777)); // mid-row
          await later;
          await write(destination, bytes.subarray(777));
          await end(destination);
          return;
        }
        await plain(piece, bytes, destination);
        if (piece > 0 && ++laterDone === 2) release();
      },
    );
    expect(slowFirst.text).toBe(reference.text);
    expect(slowFirst.done).toEqual([
      ['a', 500],
      ['b', 3000],
      ['c', 200],
    ]);
    expect(await readdir(dir)).toEqual(['slow.json', 'whole.json']);
  });

  it('a later piece still being read at its turn is written on into the capsule (promoted): same bytes', async () => {
    const reference = await whole();
    let firstDone: () => void = () => {};
    const first = new Promise<void>((resolve) => (firstDone = resolve));
    const result = await runPieces(join(dir, 'promoted.json'), [1500], async (piece, bytes, destination) => {
      if (piece === 1) {
        await write(destination, bytes.subarray(0, 5001)); // mid-row
        await first;
        await new Promise((resolve) => setTimeout(resolve, 50)); // the promotion runs meanwhile
        await write(destination, bytes.subarray(5001));
        await end(destination);
        return;
      }
      await plain(piece, bytes, destination);
      if (piece === 0) firstDone();
    });
    expect(result.promoted).toContain('b:true');
    expect(result.text).toBe(reference.text);
  });

  it('empty pieces, the first one included, leave the capsule as if read whole', async () => {
    const reference = await whole();
    for (const cuts of [
      [0, 0],
      [0, 3000],
      [1200, 1200, 3000],
    ]) {
      const result = await runPieces(join(dir, `empty-${cuts.join('-')}.json`), cuts, plain);
      expect(result.text).toBe(reference.text);
    }
  });

  it('a failing later piece: its error, no capsule, no spool', async () => {
    const failed = runPieces(join(dir, 'failed.json'), [1000, 2000], async (piece, bytes, destination) => {
      if (piece === 2) {
        await write(destination, bytes.subarray(0, 100));
        throw new Error('COPY of a piece failed');
      }
      await plain(piece, bytes, destination);
    });
    await expect(failed).rejects.toThrow('COPY of a piece failed');
    expect(await readdir(dir)).toEqual([]);
  });
});
