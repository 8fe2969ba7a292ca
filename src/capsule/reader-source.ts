import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { PassThrough, pipeline, type Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';

import { CapsuleError, FileError } from '../errors.js';
import { ageDecryptStream, ageMagic } from './age-stream.js';
import { capsuleAccess } from './capsule-access.js';
import { maxExpandedBytes, mib } from './limits.js';

/** The decoded text (or bytes) of a capsule file, as chunks, plus what was read of the stored file. */
export interface TextSource<Chunk = string> {
  chunks: AsyncIterable<Chunk>;
  gzip: boolean;
  /**
   * Bytes and SHA-256 of the stored (possibly compressed) bytes read so far; no SHA-256 when the source
   * was opened without it.
   */
  file(): { bytes: number; sha256?: string; compressed: boolean };
}

// 64 KiB: decoded chunks (and the row strings split from them) then stay below V8's large-object size
// and die young in the scavenger; 1 MiB chunks went to large-object space and let the RSS of a long
// materialize drift past 200 MB before a major GC (docs/performance.md).
const chunkBytes = 1 << 16;

/** Whether a file starts with the gzip magic bytes (1f 8b); the name does not matter. */
export async function isGzipFile(path: string): Promise<boolean> {
  const head = await readHead(path, 2);
  return head.length === 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** Whether a file starts with the age header line `age-encryption.org/v1`; the name does not matter. */
export async function isAgeFile(path: string): Promise<boolean> {
  return (await readHead(path, ageMagic.length)).equals(ageMagic);
}

async function readHead(path: string, length: number): Promise<Buffer> {
  const handle = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    throw fileError(path, error);
  });
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(length), 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Opens a capsule file as UTF-8 text chunks, gunzipping when the file is gzip. Read and decompression
 * errors surface from the iteration as FileError/CapsuleError. Breaking out of the iteration closes the file.
 */
export async function openTextSource(path: string): Promise<TextSource> {
  return openSource(path, 'utf8');
}

/**
 * The same as bytes (gunzipped, decrypted): the line layout reader finds lines and hashes rows on the
 * bytes, and decodes only row text (line-layout-reader.ts).
 */
export async function openByteSource(
  path: string,
  options: { fileHash?: boolean } = {},
): Promise<TextSource<Buffer>> {
  return openSource(path, undefined, options.fileHash ?? true);
}

async function openSource(path: string, encoding: 'utf8', fileHash?: boolean): Promise<TextSource>;
async function openSource(path: string, encoding: undefined, fileHash: boolean): Promise<TextSource<Buffer>>;
async function openSource(
  path: string,
  encoding: 'utf8' | undefined,
  fileHash = true,
): Promise<TextSource<string | Buffer>> {
  const age = await isAgeFile(path);
  // Inside age the gzip magic cannot be peeked before decrypting; `.gz.age` is what export writes.
  const gzip = age ? /\.gz\.age$/i.test(path) : await isGzipFile(path);
  const stored = createReadStream(path, { highWaterMark: chunkBytes });
  // The file's SHA-256 (inspect, a run's evidence) is a pass over every byte: a capsule read without
  // it goes straight from the file (the direct load's ~0.5 s of CPU per 400 MB). An encrypted one keeps
  // its tap, through which the decryption sees read errors.
  const hash = fileHash || age ? createHash('sha256') : undefined;
  const tap = hash
    ? new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          callback(null, chunk);
        },
      })
    : undefined;
  if (tap) stored.on('error', (error) => tap.destroy(error));
  const streams: (NodeJS.ReadableStream | NodeJS.WritableStream)[] = [stored];
  if (age) streams.splice(0, 1, await decryptedSource(stored.pipe(tap!), path));
  else if (tap) streams.push(tap);
  if (gzip) streams.push(createGunzip({ chunkSize: chunkBytes }));
  else if (age) streams.push(new PassThrough());
  // pipeline destroys every stream with the first error, so the iteration below sees it; a plain file
  // read alone is iterated as it is (its errors surface there too).
  const output =
    streams.length === 1
      ? stored
      : (pipeline as unknown as (...args: unknown[]) => Readable)(...streams, () => {});
  if (encoding) output.setEncoding(encoding);
  const limit = maxExpandedBytes();
  async function* chunks(): AsyncGenerator<string | Buffer> {
    let expanded = 0;
    try {
      for await (const chunk of output) {
        expanded += (chunk as string | Buffer).length;
        // A gzip bomb (or a runaway file) stops here instead of filling memory or disk downstream.
        if (expanded > limit) {
          output.destroy();
          throw new CapsuleError(`capsule ${path} expands to more than ${mib(limit)} of text (the limit)`, {
            code: 'capsule_too_large',
            hint: 'see docs/safety.md (size limits); REPLAY_ENV_MAX_CAPSULE_BYTES raises it',
          });
        }
        yield chunk as string | Buffer;
      }
    } catch (error) {
      if (error instanceof CapsuleError) throw error;
      throw sourceError(path, gzip, error as NodeJS.ErrnoException);
    }
  }
  return {
    chunks: chunks(),
    gzip,
    file: () => ({
      bytes: stored.bytesRead,
      ...(hash ? { sha256: hash.copy().digest('hex') } : {}),
      compressed: gzip,
    }),
  };
}

async function decryptedSource(ciphertext: Readable, path: string): Promise<Readable> {
  try {
    return await ageDecryptStream(ciphertext, path, capsuleAccess().identityFile);
  } catch (error) {
    ciphertext.destroy();
    throw error;
  }
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
