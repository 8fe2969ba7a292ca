/**
 * Streaming capsule writer: replay-env's line layout and `sha256-rows-v1` integrity
 * (docs/capsule-format.md). Rows go from the caller to the file without the capsule ever being held in
 * memory; the file appears under its target name only when complete (atomic-file.ts). A `.gz` target is
 * gzip-compressed on the way.
 *
 * Longer than most modules because the byte-level row framing (row-lines) must stay in one hot loop.
 */
import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { type Duplex, type Readable, Writable } from 'node:stream';
import { constants as zlibConstants, createGzip } from 'node:zlib';

import { stringify } from 'lossless-json';

import { CapsuleError, FileError } from '../errors.js';
import type { Integrity } from '../generated/capsule.js';
import type { ServerIdentity } from '../postgres/server-identity.js';
import { ageEncryptStream } from './age-stream.js';
import { type AtomicFile, createAtomicFile } from './atomic-file.js';
import { drainOrError } from './drain.js';
import { type FramedTable, framingStream, tableEnd, type TableStreamOptions } from './framing-stream.js';
import { maxLineBytes, mib } from './limits.js';
import { FramedRowsHash } from './table-pieces.js';
import { createTableSpool, type TableSpool, type TableSpoolWriter } from './table-spool.js';

export const capsuleLayout = 'replay-env/rows-per-line/v1';

/**
 * Everything before `tables`, as given to the writer (the reader's view is `CapsuleHeader` in header.ts).
 * `graph` entries are the subject keys plus `reasons`.
 */
export interface CapsuleHeaderInput {
  app: string;
  adapter: string;
  exportedAt?: string;
  window?: { sinceDays: number; sinceAt: string };
  redaction?: 'safe' | 'raw';
  source?: {
    kind: string;
    databaseUrlEnv?: string;
    exportedBy?: string;
    database?: string;
    /** The export source as its server identifies it (postgres/server-identity.ts). */
    server?: ServerIdentity;
  };
  tool?: { name: string; version: string };
  subject: Record<string, string>;
  graph: Array<Record<string, unknown> & { reasons: string[] }>;
  /** Extra header keys (written after `subject`, before `graph`); readers ignore what they do not know. */
  [key: string]: unknown;
}

export interface CapsuleWriteResult {
  /** Absolute path of the capsule. */
  path: string;
  /** Size of the file on disk (compressed size for `.gz`). */
  bytes: number;
  /** SHA-256 (hex) of the file as written. */
  sha256: string;
  rowCounts: Record<string, number>;
  integrity: Integrity;
}

export type { TableStreamOptions } from './framing-stream.js';

export interface CapsuleWriter {
  readonly path: string;
  /**
   * Opens table `name` and returns a Writable for its rows as bytes: each row's JSON text on one line,
   * `\n`-terminated (exactly what COPY … TO STDOUT with the export's CSV settings sends). Chunks may
   * split lines anywhere. End it (e.g. via stream.pipeline) before opening the next table.
   */
  tableStream(name: string, options?: TableStreamOptions): Writable;
  /**
   * Frames table `name` exactly as tableStream would, into a temporary file beside the capsule (mode
   * 0600, removed on abort and on exit): a table read on a second connection while another streams in.
   * Any number may be open at once; each is appended, in the capsule's table order, with appendSpool.
   */
  spoolTable(name: string, options?: TableStreamOptions): TableSpoolWriter;
  /**
   * Copies a finished spool into the capsule as the next table and removes its file; for a promoted one,
   * closes the table.
   */
  appendSpool(spool: TableSpool): Promise<void>;
  /**
   * Opens the spool's table as the next one and moves the spool there (TableSpoolWriter.promote): a table
   * still being read when its turn comes is written on directly instead of being spooled to the end.
   */
  promoteSpool(spool: TableSpoolWriter): Promise<void>;
  /** Writes a whole table from rows: strings are taken as one row's JSON text, anything else is serialized. */
  writeTable(
    name: string,
    rows: Iterable<unknown> | AsyncIterable<unknown>,
    options?: TableStreamOptions,
  ): Promise<void>;
  /** Writes the integrity trailer, fsyncs and renames onto the target. */
  finish(): Promise<CapsuleWriteResult>;
  /** Removes the temporary file; nothing is left under the target name. Safe to call twice. */
  abort(): Promise<void>;
}

export interface CapsuleWriterOptions {
  /** gzip level for `.gz` targets (default 6). */
  gzipLevel?: number;
  /** age recipients (`age1…`): the file is age-encrypted on the way (age-stream.ts). */
  encryptTo?: readonly string[];
}

const headerOrder = [
  'app',
  'adapter',
  'exportedAt',
  'window',
  'redaction',
  'source',
  'tool',
  'subject',
] as const;

/** Creates the temporary file and writes the header (everything up to `"tables": {`). */
export async function createCapsuleWriter(
  target: string,
  header: CapsuleHeaderInput,
  options: CapsuleWriterOptions = {},
): Promise<CapsuleWriter> {
  const encrypt = options.encryptTo?.length ? await ageEncryptStream(options.encryptTo) : undefined;
  const file = await createAtomicFile(target, { writebackBytes: capsuleWritebackBytes() });
  const sink = new Sink(
    file,
    /\.gz(\.age)?$/.test(target) ? (options.gzipLevel ?? zlibConstants.Z_DEFAULT_COMPRESSION) : undefined,
    encrypt,
  );
  const rowCounts: Record<string, number> = {};
  const integrity: Integrity = { algorithm: 'sha256-rows-v1', tables: {} };
  let openTable: string | undefined;
  let state: 'open' | 'finished' | 'aborted' = 'open';

  const abort = async () => {
    if (state === 'aborted') return;
    state = 'aborted';
    sink.destroy();
    await file.abort();
  };

  try {
    await sink.write(Buffer.from(renderHeader(header), 'utf8'));
  } catch (error) {
    await abort();
    throw error;
  }

  const open = (name: string): boolean => {
    if (state !== 'open') throw new Error(`capsule writer is ${state}`);
    if (openTable !== undefined) throw new Error(`table ${openTable} is still open`);
    if (Object.hasOwn(rowCounts, name)) throw new Error(`table ${name} was already written`);
    openTable = name;
    const first = Object.keys(rowCounts).length === 0;
    rowCounts[name] = 0;
    return first;
  };
  const close = (name: string, framed: FramedTable) => {
    rowCounts[name] = framed.rows;
    integrity.tables[name] = {
      rows: framed.rows,
      sha256: framed.sha256,
      ...(framed.lossy ? { lossy: framed.lossy } : {}),
    };
    openTable = undefined;
  };
  // A table in pieces (table-pieces.ts) between its first piece and its last: open, its hash undigested.
  let pieces:
    | { name: string; rows: number; lossy?: Record<string, number>; hash: Hash; rehash: FramedRowsHash }
    | undefined;
  /** The first piece is in: the table stays open for the next. */
  const firstPieceDone = (name: string, framed: FramedTable) => {
    if (!framed.hash) throw new Error(`table ${name}: the first piece has no hash`);
    rowCounts[name] = framed.rows;
    pieces = {
      name,
      rows: framed.rows,
      ...(framed.lossy ? { lossy: { ...framed.lossy } } : {}),
      hash: framed.hash,
      rehash: new FramedRowsHash(framed.hash),
    };
  };
  const continuing = (spool: { name: string }) => {
    if (!pieces || pieces.name !== spool.name || openTable !== spool.name)
      throw new Error(`table ${spool.name} has no piece open to continue`);
    return pieces;
  };
  /** Writes a later piece's framed bytes (all of its chunks in order), hashing its rows onto the table's. */
  const pieceWriter = (spool: { name: string }) => {
    const table = continuing(spool);
    let started = false;
    return async (chunk: Buffer) => {
      if (chunk.length === 0) return;
      let bytes = chunk;
      // Its first row was framed after a comma: none when no earlier piece had a row.
      if (!started && bytes[0] !== 0x2c)
        throw new Error(`table ${spool.name}: a later piece starts without its comma`);
      if (!started && table.rows === 0) bytes = bytes.subarray(1);
      started = true;
      table.rehash.update(bytes);
      await sink.write(bytes);
    };
  };
  /** A later piece is in: its rows counted; after the last one the table is closed. */
  const pieceDone = async (spool: TableSpool) => {
    const table = continuing(spool);
    table.rehash.endPiece();
    table.rows += spool.rows;
    rowCounts[spool.name] = table.rows;
    for (const [column, count] of Object.entries(spool.lossy ?? {}))
      (table.lossy ??= {})[column] = (table.lossy[column] ?? 0) + count;
    if (spool.piece?.more) return;
    pieces = undefined;
    await sink.write(tableEnd);
    close(spool.name, {
      rows: table.rows,
      sha256: table.hash.digest('hex'),
      ...(table.lossy ? { lossy: table.lossy } : {}),
    });
  };
  const prefixOf = (name: string, first: boolean) =>
    Buffer.from(`${first ? '\n' : ',\n'}    ${JSON.stringify(name)}: [`, 'utf8');

  const tableStream = (name: string, streamOptions: TableStreamOptions = {}): Writable => {
    if (streamOptions.piece?.continues) throw new Error(`table ${name}: a later piece is spooled`);
    const more = streamOptions.piece?.more === true;
    const first = open(name);
    let prefix: Buffer | undefined = prefixOf(name, first);
    return framingStream(name, streamOptions, {
      async emit(chunk, last) {
        const parts = [prefix, chunk, last && !more ? tableEnd : undefined].filter(
          (part): part is Buffer => part !== undefined && part.length > 0,
        );
        prefix = undefined;
        if (parts.length > 0) await sink.write(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
      },
      onRows(rows) {
        rowCounts[name] = rows;
      },
      onDone(framed) {
        if (more) firstPieceDone(name, framed);
        else close(name, framed);
      },
    });
  };

  const appendSpool = async (spool: TableSpool): Promise<void> => {
    try {
      if (spool.piece?.continues) {
        if (!spool.promoted) {
          const write = pieceWriter(spool);
          for await (const chunk of spool.read()) await write(chunk as Buffer);
        }
        await pieceDone(spool);
        return;
      }
      if (!spool.promoted) {
        const first = open(spool.name);
        await sink.write(prefixOf(spool.name, first));
        for await (const chunk of spool.read()) await sink.write(chunk as Buffer);
      } else if (openTable !== spool.name) throw new Error(`table ${spool.name} was not promoted here`);
      if (spool.piece?.more) {
        firstPieceDone(spool.name, spool);
        return;
      }
      await sink.write(tableEnd);
      close(spool.name, spool);
    } finally {
      await spool.discard();
    }
  };

  return {
    path: file.path,
    tableStream,
    spoolTable: (name, streamOptions) => {
      if (state !== 'open') throw new Error(`capsule writer is ${state}`);
      if (Object.hasOwn(rowCounts, name) && !streamOptions?.piece?.continues)
        throw new Error(`table ${name} was already written`);
      return createTableSpool(file.path, name, streamOptions);
    },
    appendSpool,
    promoteSpool(spool) {
      // No await before promote(): the spool must be promoted in the same step as the caller decided to,
      // or it could finish as a plain spool in between.
      if (spool.piece?.continues) return spool.promote(pieceWriter(spool), Buffer.alloc(0));
      const first = open(spool.name);
      return spool.promote((chunk) => sink.write(chunk), prefixOf(spool.name, first));
    },
    async writeTable(name, rows, streamOptions) {
      const stream = tableStream(name, streamOptions);
      for await (const row of rows) {
        const text = typeof row === 'string' ? row : (stringify(row) ?? 'null');
        if (!stream.write(`${text}\n`)) await once(stream, 'drain');
      }
      await new Promise<void>((resolve, reject) => {
        stream.once('error', reject);
        stream.end(() => resolve());
      });
    },
    async finish() {
      if (state !== 'open') throw new Error(`capsule writer is ${state}`);
      if (openTable !== undefined) throw new Error(`table ${openTable} is still open`);
      try {
        await sink.write(Buffer.from(`\n  },\n  "integrity": ${JSON.stringify(integrity)}\n}\n`, 'utf8'));
        await sink.end();
        await file.commit();
      } catch (error) {
        await abort();
        throw error;
      }
      state = 'finished';
      return { path: file.path, bytes: sink.bytes, sha256: sink.sha256(), rowCounts, integrity };
    },
    abort,
  };
}

/**
 * Bytes between background fdatasyncs of a capsule (atomic-file.ts): 32 MiB, or REPLAY_ENV_WRITEBACK_MIB
 * (0: none). 16, 32 and 64 MiB measured alike (docs/performance.md, eleventh session).
 */
export function capsuleWritebackBytes(env: NodeJS.ProcessEnv = process.env): number {
  const mib = Number(env.REPLAY_ENV_WRITEBACK_MIB ?? 32);
  return Number.isFinite(mib) && mib > 0 ? mib * (1 << 20) : 0;
}

/** `{` … `  "tables": {`: every header key on its own line, the graph one entry per line. */
export function renderHeader(header: CapsuleHeaderInput): string {
  const lines = ['{', '  "schemaVersion": 1,', `  "layout": ${JSON.stringify(capsuleLayout)},`];
  const line = (key: string, value: unknown) =>
    lines.push(`  ${JSON.stringify(key)}: ${JSON.stringify(value)},`);
  for (const key of headerOrder) if (header[key] !== undefined) line(key, header[key]);
  const reserved = new Set<string>([
    ...headerOrder,
    'graph',
    'tables',
    'schemaVersion',
    'layout',
    'integrity',
  ]);
  for (const [key, value] of Object.entries(header)) {
    if (!reserved.has(key) && value !== undefined) line(key, value);
  }
  lines.push('  "graph": [');
  header.graph.forEach((entry, index) => {
    lines.push(`    ${JSON.stringify(entry)}${index < header.graph.length - 1 ? ',' : ''}`);
  });
  lines.push('  ],', '  "tables": {');
  // A capsule its reader would refuse is never written (as for rows: row-lines.ts).
  const limit = maxLineBytes();
  const long = lines.findIndex((text) => text.length > limit / 3 && Buffer.byteLength(text) > limit);
  if (long !== -1) {
    // Named by its key or place, not its text (a subject value is not printed).
    const graphStart = lines.indexOf('  "graph": [');
    const what =
      long > graphStart
        ? `graph entry ${long - graphStart}`
        : `"${/^\s*"([^"]{0,40})/.exec(lines[long]!)?.[1]}"`;
    throw new CapsuleError(
      `capsule header: the ${what} line is longer than ${mib(limit)} (the per-line limit)`,
      { code: 'capsule_line_too_long', hint: 'see docs/safety.md (size limits)' },
    );
  }
  return lines.join('\n');
}

/**
 * Bytes → (gzip) → (age) → temp file, hashing and counting what reaches the file. `write` resolves once
 * the chain can take more (backpressure), and rejects with the first error anywhere in the chain.
 */
class Sink {
  bytes = 0;
  readonly #hash: Hash = createHash('sha256');
  readonly #head: Writable;
  /** Stages after the head whose output is pumped onward (gzip, age), in order; ended in order. */
  readonly #stages: Duplex[] = [];
  readonly #file: AtomicFile;
  #error: Error | undefined;

  constructor(file: AtomicFile, gzipLevel: number | undefined, encrypt: Duplex | undefined) {
    this.#file = file;
    const onError = (error: Error) => {
      // A FileError (exit 2, code file_error) like every other failed write (atomic-file, trace-file): a
      // full disk is not a corrupt capsule (exit 6 tells agents to distrust the input capsule).
      this.#error ??= new FileError(`cannot write ${file.path}: ${error.message}`, { cause: error });
    };
    file.stream.on('error', onError);
    if (gzipLevel !== undefined) this.#stages.push(createGzip({ level: gzipLevel }));
    if (encrypt) this.#stages.push(encrypt);
    this.#stages.forEach((stage, index) => {
      stage.on('error', onError);
      const next = this.#stages[index + 1];
      if (next) this.#pump(stage, next, false);
      else this.#pump(stage, file.stream, true);
    });
    this.#head = this.#stages[0] ?? file.stream;
  }

  #pump(from: Readable, to: Writable, track: boolean): void {
    from.on('data', (chunk: Buffer) => {
      if (track) this.#track(chunk);
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
  }

  #track(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.#hash.update(chunk);
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.#error) throw this.#error;
    if (this.#stages.length === 0) this.#track(chunk);
    if (!this.#head.write(chunk)) {
      await drainOrError(this.#head, (error) => this.#error ?? error, [this.#file.stream]);
    }
    if (this.#error) throw this.#error;
  }

  /** Flushes gzip and age (if any), in order. The file stream itself is ended by AtomicFile.commit(). */
  async end(): Promise<void> {
    for (const stage of this.#stages) {
      const ended = once(stage, 'end');
      stage.end();
      await ended;
    }
    if (this.#error) throw this.#error;
  }

  sha256(): string {
    return this.#hash.digest('hex');
  }

  destroy(): void {
    for (const stage of this.#stages) stage.destroy();
  }
}
