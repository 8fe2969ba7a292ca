import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline, type Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';

import { CapsuleError, FileError } from '../errors.js';
import { maxExpandedBytes, mib } from './limits.js';

/** The decoded text of a capsule file, as chunks, plus what was read of the stored file. */
export interface TextSource {
  chunks: AsyncIterable<string>;
  gzip: boolean;
  /** Bytes and SHA-256 of the stored (possibly compressed) bytes read so far. */
  file(): { bytes: number; sha256: string; compressed: boolean };
}

// 64 KiB: decoded chunks (and the row strings split from them) then stay below V8's large-object size
// and die young in the scavenger; 1 MiB chunks went to large-object space and let the RSS of a long
// materialize drift past 200 MB before a major GC (docs/performance.md).
const chunkBytes = 1 << 16;

/** Whether a file starts with the gzip magic bytes (1f 8b); the name does not matter. */
export async function isGzipFile(path: string): Promise<boolean> {
  const handle = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    throw fileError(path, error);
  });
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/**
 * Opens a capsule file as UTF-8 text chunks, gunzipping when the file is gzip. Read and decompression
 * errors surface from the iteration as FileError/CapsuleError. Breaking out of the iteration closes the file.
 */
export async function openTextSource(path: string): Promise<TextSource> {
  const gzip = await isGzipFile(path);
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  const streams: (NodeJS.ReadableStream | NodeJS.WritableStream)[] = [
    createReadStream(path, { highWaterMark: chunkBytes }),
    tap,
  ];
  if (gzip) streams.push(createGunzip({ chunkSize: chunkBytes }));
  // pipeline destroys every stream with the first error, so the iteration below sees it.
  const output = (pipeline as unknown as (...args: unknown[]) => Readable)(...streams, () => {});
  output.setEncoding('utf8');
  const limit = maxExpandedBytes();
  async function* chunks(): AsyncGenerator<string> {
    let expanded = 0;
    try {
      for await (const chunk of output) {
        expanded += (chunk as string).length;
        // A gzip bomb (or a runaway file) stops here instead of filling memory or disk downstream.
        if (expanded > limit) {
          output.destroy();
          throw new CapsuleError(`capsule ${path} expands to more than ${mib(limit)} of text (the limit)`, {
            code: 'capsule_too_large',
            hint: 'see docs/safety.md (size limits); REPLAY_ENV_MAX_CAPSULE_BYTES raises it',
          });
        }
        yield chunk as string;
      }
    } catch (error) {
      if (error instanceof CapsuleError) throw error;
      throw sourceError(path, gzip, error as NodeJS.ErrnoException);
    }
  }
  return {
    chunks: chunks(),
    gzip,
    file: () => ({ bytes, sha256: hash.copy().digest('hex'), compressed: gzip }),
  };
}

function sourceError(path: string, gzip: boolean, error: NodeJS.ErrnoException): Error {
  if (gzip && typeof error.code === 'string' && error.code.startsWith('Z_')) {
    const truncated = error.code === 'Z_BUF_ERROR' || /unexpected end/i.test(error.message);
    return new CapsuleError(
      truncated
        ? `capsule ${path} is truncated: the gzip stream ends early`
        : `capsule ${path} is not a valid gzip file: ${error.message}`,
      { cause: error, code: truncated ? 'capsule_truncated' : 'capsule_corrupt' },
    );
  }
  return fileError(path, error);
}

function fileError(path: string, error: NodeJS.ErrnoException): FileError {
  if (error.code === 'ENOENT') return new FileError(`capsule ${path} does not exist`, { cause: error });
  if (error.code === 'EISDIR') return new FileError(`capsule ${path} is a directory`, { cause: error });
  if (error.code === 'EACCES') return new FileError(`capsule ${path} is not readable`, { cause: error });
  return new FileError(`cannot read capsule ${path}: ${error.message}`, { cause: error });
}
