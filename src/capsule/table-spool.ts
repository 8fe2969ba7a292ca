import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import type { Writable } from 'node:stream';

import { FileError } from '../errors.js';
import { type AtomicFile, createAtomicFile } from './atomic-file.js';
import { drainOrError } from './drain.js';
import { framingStream, type TableStreamOptions } from './framing-stream.js';

/** A table framed into a temporary file, complete, waiting to be appended to the capsule. */
export interface TableSpool {
  name: string;
  rows: number;
  sha256: string;
  /** The framed row lines, as tableStream would have written them (without the table's prefix and end). */
  read(): AsyncIterable<Buffer>;
  /** Removes the file. Safe to call twice. */
  discard(): Promise<void>;
}

export interface TableSpoolWriter {
  /** The table's rows as bytes, exactly as for CapsuleWriter.tableStream. */
  stream: Writable;
  /** Resolves once `stream` has ended and every byte is in the file. */
  finished(): Promise<TableSpool>;
  /** Removes the file (after a failure). Safe to call at any time. */
  discard(): Promise<void>;
}

let spools = 0;

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
  let framed: { rows: number; sha256: string } | undefined;
  const stream = framingStream(name, options, {
    async emit(chunk) {
      const file = await fileReady;
      if (fileError) throw fileError;
      if (chunk.length > 0 && !file.stream.write(chunk)) await drainOrError(file.stream, writeError);
    },
    onRows() {},
    onDone(result) {
      framed = result;
    },
  });
  const discard = async () => {
    stream.destroy();
    await (await fileReady.catch(() => undefined))?.abort();
  };
  return {
    stream,
    discard,
    async finished() {
      if (!stream.writableFinished) await once(stream, 'finish');
      const file = await fileReady;
      await new Promise<void>((resolve, reject) => {
        if (fileError) {
          reject(fileError);
          return;
        }
        file.stream.end((error?: Error | null) =>
          error ? reject(fileError ?? writeError(error)) : resolve(),
        );
      });
      const result = framed!;
      return {
        name,
        rows: result.rows,
        sha256: result.sha256,
        read: () => createReadStream(file.tempPath, { highWaterMark: 1 << 16 }),
        discard: () => file.abort(),
      };
    },
  };
}
