import { existsSync } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** @sparticuz/chromium unpacks its binary here (it decides; we can only read it). */
const unpackedPath = (): string => join(tmpdir(), 'chromium');
const lockPath = (): string => join(tmpdir(), 'replay-env-chromium-unpack.lock');
const lockStaleMs = 5 * 60_000;

/**
 * The Chromium shipped inside the npm package @sparticuz/chromium (Linux x64): the first call unpacks it
 * to $TMPDIR/chromium (~10 s, ~200 MB), later ones reuse it. The package returns that file as soon as it
 * *exists*, so two runs unpacking at once would start a half-written binary: unpacking is serialized
 * with a lock directory, and a failed unpack removes its partial file.
 */
export async function bundledChromium(): Promise<string> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the bundled Chromium is built for Linux x64, not ${process.platform} ${process.arch}`);
  }
  let chromium: { executablePath(): Promise<string> };
  try {
    chromium = (await import('@sparticuz/chromium')).default;
  } catch (error) {
    throw new Error(`cannot load @sparticuz/chromium (${(error as Error).message})`);
  }
  const target = unpackedPath();
  await withUnpackLock(async () => {
    if (existsSync(target)) return;
    try {
      await chromium.executablePath();
    } catch (error) {
      await rm(target, { force: true });
      throw new Error(`unpacking the bundled Chromium failed (${(error as Error).message})`);
    }
  });
  await assertOwnedBinary(target);
  return target;
}

/** Another user could have planted $TMPDIR/chromium on a shared machine: run only our own file. */
async function assertOwnedBinary(path: string): Promise<void> {
  const info = await stat(path);
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) {
    throw new Error(`${path} belongs to another user (uid ${info.uid}); refusing to run it`);
  }
  if ((info.mode & 0o022) !== 0) {
    throw new Error(
      `${path} is writable by others (mode ${(info.mode & 0o777).toString(8)}); refusing to run it`,
    );
  }
}

async function withUnpackLock(work: () => Promise<void>): Promise<void> {
  const lock = lockPath();
  const deadline = Date.now() + lockStaleMs;
  for (;;) {
    try {
      await mkdir(lock, { mode: 0o700 });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = await stat(lock).then(
        (info) => Date.now() - info.mtimeMs,
        () => 0,
      );
      if (age > lockStaleMs) await rm(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`another process holds ${lock}`);
      else await new Promise((done) => setTimeout(done, 200));
    }
  }
  try {
    await work();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}
