import { randomBytes } from 'node:crypto';
import {
  close as closeFd,
  createWriteStream,
  fdatasync,
  fsync,
  open as openFd,
  unlinkSync,
  write as writeFd,
  writev as writevFd,
} from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { promisify } from 'node:util';

import { FileError } from '../errors.js';

/**
 * A file written under a temporary name beside its target and renamed onto the target only when
 * complete (docs/capsule-format.md "Files"): an interrupted or failed write never leaves a truncated file
 * under the target name. Mode 0600 (capsules hold customer data), fsync'd before the rename.
 */
export interface AtomicFile {
  /** Absolute target path. */
  readonly path: string;
  /** Absolute path of the temporary file while it is being written. */
  readonly tempPath: string;
  /** The temporary file's byte stream. */
  readonly stream: Writable;
  /** Ends the stream, fsyncs, renames onto the target. */
  commit(): Promise<void>;
  /** Destroys the stream and removes the temporary file. Safe to call at any time, and twice. */
  abort(): Promise<void>;
}

/** Bytes a file stream takes before its writer waits for 'drain' (see createAtomicFile). */
const fileHighWaterMark = 1 << 20;

export interface AtomicFileOptions {
  /**
   * Starts an fdatasync in the background (thread pool, one at a time) after every this many bytes
   * written, so the kernel writes the file back while it grows and commit's fsync flushes only the tail.
   * Unset: no fsync until commit (temporary files that are never committed, small files).
   */
  writebackBytes?: number;
  /** What runs those fdatasyncs (default fs.fdatasync; tests count them or make them fail). */
  fdatasync?: (fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => void;
}

/** Temporary files currently open, removed synchronously if the process is interrupted. */
const live = new Set<string>();
let handlersInstalled = false;

function onSignal(signal: NodeJS.Signals): void {
  removeLiveFiles();
  // The default action of these signals is to exit; with a listener installed we must do it ourselves.
  process.exit(signal === 'SIGINT' ? 130 : 143);
}

function removeLiveFiles(): void {
  for (const file of live) {
    try {
      unlinkSync(file);
    } catch {
      // Already gone.
    }
  }
  live.clear();
}

function track(file: string): void {
  live.add(file);
  if (!handlersInstalled) {
    handlersInstalled = true;
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('exit', removeLiveFiles);
  }
}

function untrack(file: string): void {
  live.delete(file);
  if (live.size === 0 && handlersInstalled) {
    handlersInstalled = false;
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('exit', removeLiveFiles);
  }
}

/**
 * Removes `.<name>.<pid>.<hex>.tmp` (and `.<name>.spool-<n>.<pid>.<hex>.tmp`) files beside the target whose
 * writer process is gone. SIGKILL (and a
 * power cut) cannot be caught, so the temporary file of a killed export survives it; the next write to
 * the same target cleans it up (docs/safety.md). Files of a live process (a concurrent writer) stay.
 */
async function removeStaleTempFiles(dir: string, name: string): Promise<void> {
  const prefix = `.${name}.`;
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const entry of names) {
    if (!entry.startsWith(prefix) || !entry.endsWith('.tmp')) continue;
    // The target's spool files too (`.<name>.spool-<n>.<pid>.<hex>.tmp`, table-spool.ts): a spool is only
    // cleaned by a later spool of the same number, and a run that needs fewer spools never makes one.
    const match = /^(?:spool-\d+\.)?(\d+)\.[0-9a-f]{8}\.tmp$/.exec(entry.slice(prefix.length));
    if (!match || pidAlive(Number(match[1]))) continue;
    await rm(join(dir, entry), { force: true }).catch(() => {});
  }
}

/** Whether process `pid` may be alive (this one, or one this user may not signal: EPERM). */
export function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Creates the target's directory (recursively) and an exclusive temporary file beside the target. */
export async function createAtomicFile(target: string, options: AtomicFileOptions = {}): Promise<AtomicFile> {
  const path = resolve(target);
  const dir = dirname(path);
  const tempPath = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number;
  // Tracked before it exists: a signal arriving right after the file is created must still remove it.
  track(tempPath);
  try {
    await mkdir(dir, { recursive: true });
    await removeStaleTempFiles(dir, basename(path));
    fd = await promisify(openFd)(tempPath, 'wx', 0o600);
  } catch (error) {
    untrack(tempPath);
    throw new FileError(`cannot write ${target}: ${(error as Error).message}`, { cause: error });
  }
  // A numeric fd, not a FileHandle: FileHandle.close() waits forever on a stream made with autoClose false.
  // 1 MiB of room (the default is 16 KiB, less than one COPY read): a writer waits for 'drain' only when
  // the disk falls that far behind, not after every chunk, and chunks that queue meanwhile go out in one
  // writev: the export's Node CPU fell by ~9 % on average (docs/performance.md, seventh session).
  const writeback = progressiveWriteback(fd, options);
  const stream = createWriteStream('', {
    fd,
    autoClose: false,
    highWaterMark: fileHighWaterMark,
    ...(writeback ? { fs: writeback.fs } : {}),
  });
  let settled = false;
  // The stream owns the fd: destroy() closes it even with autoClose false (which only stops the stream
  // destroying itself on finish or error). Closing it here as well raced that close: the stream's own
  // close then failed with EBADF, an 'error' nobody listened to (an uncaught exception), or closed
  // whatever file had been given the same number meanwhile.
  const closeStream = () =>
    new Promise<void>((resolvePromise, reject) => {
      if (stream.closed) {
        resolvePromise();
        return;
      }
      stream.once('error', reject);
      stream.once('close', () => resolvePromise());
      stream.destroy();
    });

  const abort = async () => {
    if (settled) return;
    settled = true;
    // An fdatasync in flight must not outlive the fd: closing it could hand its number to another file.
    await writeback?.settled();
    await closeStream().catch(() => {});
    await rm(tempPath, { force: true });
    untrack(tempPath);
  };

  return {
    path,
    tempPath,
    stream,
    async commit() {
      if (settled) throw new Error('atomic file already committed or aborted');
      try {
        await new Promise<void>((resolvePromise, reject) => {
          // A write that failed before commit (EFBIG/ENOSPC on the last gzip chunk) has already emitted
          // its 'error', and end()'s callback gets the error rather than nothing: ignoring both renamed a
          // truncated file onto the target and reported success.
          if (stream.errored) {
            reject(stream.errored);
            return;
          }
          stream.once('error', reject);
          stream.end((error?: Error | null) => (error ? reject(error) : resolvePromise()));
        });
        // A background fdatasync's error is reported to it alone, not again to the fsync below.
        await writeback?.settled(true);
        await promisify(fsync)(fd);
        await closeStream();
        await rename(tempPath, path);
        settled = true;
        untrack(tempPath);
      } catch (error) {
        await abort();
        throw new FileError(`cannot write ${target}: ${(error as Error).message}`, { cause: error });
      }
      // Make the rename itself durable; not all platforms allow fsync on a directory.
      const dirHandle = await open(dir, 'r').catch(() => undefined);
      await dirHandle?.sync().catch(() => {});
      await dirHandle?.close().catch(() => {});
    },
    abort,
  };
}

/**
 * The file stream's write and writev (its `fs` option), counting the bytes that reach the file and
 * starting `fdatasync` after every `every` of them while none is in flight. Without it a capsule of a few
 * hundred MB sits dirty in the page cache (the kernel's background writeback starts at 10 % of memory or
 * after 30 s) and commit's fsync writes all of it back while the export waits.
 */
function progressiveWriteback(fd: number, options: AtomicFileOptions) {
  const every = options.writebackBytes;
  const sync = options.fdatasync ?? fdatasync;
  if (!every || every <= 0) return undefined;
  let sinceSync = 0;
  let inFlight: Promise<void> | undefined;
  let failure: Error | undefined;
  let stopped = false;
  const wrote = (bytes: number) => {
    sinceSync += bytes;
    if (sinceSync < every || inFlight || stopped) return;
    sinceSync = 0;
    inFlight = new Promise<void>((resolvePromise) => {
      sync(fd, (error) => {
        failure ??= error ?? undefined;
        inFlight = undefined;
        resolvePromise();
      });
    });
  };
  type Callback = (error: NodeJS.ErrnoException | null, written: number, data: unknown) => void;
  const counting =
    (callback: Callback): Callback =>
    (error, written, data) => {
      if (!error) wrote(written);
      callback(error, written, data);
    };
  return {
    fs: {
      write: (...args: unknown[]) => {
        const callback = args.pop() as Callback;
        (writeFd as (...a: unknown[]) => void)(...args, counting(callback));
      },
      writev: (...args: unknown[]) => {
        const callback = args.pop() as Callback;
        (writevFd as (...a: unknown[]) => void)(...args, counting(callback));
      },
      close: closeFd,
    },
    /** Waits for the fdatasync in flight (none starts afterwards); `check`: rethrows what one failed with. */
    async settled(check = false): Promise<void> {
      stopped = true;
      await inFlight;
      if (check && failure) throw failure;
    },
  };
}

/** Writes a whole file the same way (temp beside the target, fsync, rename; mode 0600). */
export async function writeFileAtomically(target: string, content: string | Uint8Array): Promise<void> {
  const file = await createAtomicFile(target);
  try {
    file.stream.write(content);
  } catch (error) {
    await file.abort();
    throw new FileError(`cannot write ${target}: ${(error as Error).message}`, { cause: error });
  }
  await file.commit();
}
