import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import type { Writable } from 'node:stream';

import { FileError } from '../errors.js';
import { type AtomicFile, createAtomicFile } from './atomic-file.js';
import { drainOrError } from './drain.js';
import { type FramedTable, framingStream, type TableStreamOptions } from './framing-stream.js';
import type { TablePiece } from './table-pieces.js';

/** A table framed into a temporary file, complete, waiting to be appended to the capsule. */
export interface TableSpool extends FramedTable {
  name: string;
  /** Its rows are already in the capsule (TableSpoolWriter.promote): appending only closes the table. */
  promoted?: boolean;
  /** One piece of the table (table-pieces.ts); absent: the whole table. */
  piece?: TablePiece | undefined;
  /** The framed row lines, as tableStream would have written them (without the table's prefix and end). */
  read(): AsyncIterable<Buffer>;
  /** Removes the file. Safe to call twice. */
  discard(): Promise<void>;
}

export interface TableSpoolWriter {
  name: string;
  piece?: TablePiece | undefined;
  /** The table's rows as bytes, exactly as for CapsuleWriter.tableStream. */
  stream: Writable;
  /** Resolves once `stream` has ended and every byte is in the file. */
  finished(): Promise<TableSpool>;
  /** Removes the file (after a failure). Safe to call at any time. */
  discard(): Promise<void>;
  /**
   * Moves the table to `write` (the capsule, at this table's turn): `prefix` (the table's opening) and
   * what is spooled so far are written there, every later chunk goes there directly, and the file is
   * removed. `stream`'s writes wait meanwhile. Decided at the call: `finished()` reports it as promoted.
   */
  promote(write: (chunk: Buffer) => Promise<void>, prefix: Buffer): Promise<void>;
}

let spools = 0;
/**
 * Bytes per read of a spool file copied into the capsule: 256 KiB. 64 KiB took 16 times the round trips
 * of 1 MiB; 1 MiB reads, with big tables in pieces (several hundred MB spooled), raised the simple 3M
 * export's peak RSS from 121 to 152 MB (chunks outliving a scavenge wait for a full collection); 256 KiB:
 * 125 MB (docs/performance.md, twentieth session).
 */
const spoolReadBytes = 1 << 18;

/**
 * Spool files live beside the capsule as `.<capsule>.spool-<n>.<pid>.<hex>.tmp` (atomic-file.ts: mode
 * 0600, exclusive, removed on SIGINT/SIGTERM/exit, a dead process's leftovers removed by the next run), so
 * they hold the same (already redacted) rows under the same protection as the capsule's own temp file.
 */
export function createTableSpool(
  capsulePath: string,
  name: string,
  options: TableStreamOptions = {},
): TableSpoolWriter {
  spools += 1;
  // Said as a write of the capsule: the spool is part of writing it (a full disk names the capsule).
  const writeError = (error: Error) =>
    new FileError(`cannot write ${capsulePath}: ${error.message}`, { cause: error });
  let fileError: Error | undefined;
  const fileReady: Promise<AtomicFile> = createAtomicFile(`${capsulePath}.spool-${spools}`).then((file) => {
    // Always listened to: a write error (or the close after abort) must not go unhandled.
    file.stream.on('error', (error: Error) => {
      fileError ??= writeError(error);
    });
    return file;
  });
  fileReady.catch(() => {}); // surfaced by the first write
  let framed: FramedTable | undefined;
  // Emits and a promotion run one after the other: a chunk never overtakes the spooled bytes.
  let queue: Promise<void> = Promise.resolve();
  let direct: ((chunk: Buffer) => Promise<void>) | undefined;
  const toFile = async (chunk: Buffer) => {
    const file = await fileReady;
    if (fileError) throw fileError;
    if (chunk.length > 0 && !file.stream.write(chunk)) await drainOrError(file.stream, writeError);
  };
  const stream = framingStream(name, options, {
    emit(chunk) {
      queue = queue.then(() => (direct ? (chunk.length > 0 ? direct(chunk) : undefined) : toFile(chunk)));
      return queue;
    },
    onRows() {},
    onDone(result) {
      framed = result;
    },
  });
  // Its errors reach the export through the pipeline writing into it, finished() and promote(). One
  // emitted after that pipeline was torn down (a queued spool write failing once the connections were
  // cut) has no listener left and would crash the process with a stack trace (red team, session 13).
  stream.on('error', () => {});
  const discard = async () => {
    stream.destroy();
    await (await fileReady.catch(() => undefined))?.abort();
  };
  const endFile = async (file: AtomicFile) =>
    new Promise<void>((resolve, reject) => {
      if (fileError) {
        reject(fileError);
        return;
      }
      file.stream.end((error?: Error | null) => (error ? reject(fileError ?? writeError(error)) : resolve()));
    });
  return {
    name,
    piece: options.piece,
    stream,
    discard,
    promote(write, prefix) {
      queue = queue.then(async () => {
        await write(prefix);
        const file = await fileReady;
        await endFile(file);
        for await (const chunk of createReadStream(file.tempPath, { highWaterMark: spoolReadBytes }))
          await write(chunk as Buffer);
        await file.abort();
        direct = write;
      });
      return queue;
    },
    async finished() {
      if (stream.errored) throw stream.errored; // 'finish' would never come
      if (!stream.writableFinished) await once(stream, 'finish');
      await queue;
      const file = await fileReady;
      if (!direct) await endFile(file);
      const result = framed!;
      return {
        name,
        piece: options.piece,
        ...result,
        promoted: direct !== undefined,
        read: () => createReadStream(file.tempPath, { highWaterMark: spoolReadBytes }),
        discard: () => file.abort(),
      };
    },
  };
}
