import { createReadStream, createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress } from 'node:zlib';

/**
 * The Chromium binary shipped (brotli-compressed) inside the npm package @sparticuz/chromium, Linux x64.
 * The first call unpacks it into a per-user cache, `$REPLAY_ENV_CACHE_DIR` (default
 * `$XDG_CACHE_HOME/replay-env`, else `~/.cache/replay-env`), under `chromium-<package version>/` —
 * ~200 MB, a few seconds; later calls reuse it. We unpack it ourselves rather than through the package's
 * `executablePath()`, which writes to `$TMPDIR/chromium` and returns that file as soon as it *exists*
 * (a concurrent run would start a half-written binary; another user could plant one). Here the file is
 * written under a temporary name and renamed when complete, in a directory only this user can write.
 * Fonts come from the system (fontconfig); WebGL is not available (the package's SwiftShader is not unpacked).
 */
export async function bundledChromium(env: NodeJS.ProcessEnv): Promise<string> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the bundled Chromium is built for Linux x64, not ${process.platform} ${process.arch}`);
  }
  let packageDir: string;
  try {
    const require = createRequire(import.meta.url);
    packageDir = dirname(dirname(require.resolve('@sparticuz/chromium')));
  } catch (error) {
    throw new Error(`cannot find the npm package @sparticuz/chromium (${(error as Error).message})`);
  }
  const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    version: string;
  };
  const source = join(packageDir, 'bin', 'chromium.br');
  const dir = join(cacheRoot(env), `chromium-${version}`);
  const target = join(dir, 'chromium');
  if (!existsSync(target)) await unpack(source, dir, target);
  await assertOwnedBinary(target);
  return target;
}

function cacheRoot(env: NodeJS.ProcessEnv): string {
  if (env.REPLAY_ENV_CACHE_DIR) return env.REPLAY_ENV_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'replay-env');
}

async function unpack(source: string, dir: string, target: string): Promise<void> {
  if (!existsSync(source)) throw new Error(`${source} is missing (reinstall @sparticuz/chromium)`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await removeStaleTempFiles(dir);
  const temp = `${target}.${process.pid}.${Math.random().toString(16).slice(2, 10)}.tmp`;
  try {
    await pipeline(
      createReadStream(source),
      createBrotliDecompress({ chunkSize: 2 ** 21 }),
      createWriteStream(temp, { mode: 0o700, flags: 'wx' }),
    );
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw new Error(`unpacking the bundled Chromium into ${dir} failed (${(error as Error).message})`);
  }
}

/** A run killed mid-unpack (SIGKILL) leaves its temp file; the next unpack removes it. */
async function removeStaleTempFiles(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    const match = /^chromium\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name);
    if (!match || pidAlive(Number(match[1]))) continue;
    await rm(join(dir, name), { force: true });
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The cache may be on a shared path (REPLAY_ENV_CACHE_DIR): run only a binary this user owns. */
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
