import { execFile } from 'node:child_process';
import { chown, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import pg from 'pg';

import { DatabaseUrl } from '../../src/postgres/database-url.js';
import { type EmbeddedServer, startEmbeddedPostgres } from '../../src/postgres/embedded.js';

const run = promisify(execFile);

export interface TlsServer {
  server: EmbeddedServer;
  /** postgres://app:…@HOST:PORT/postgres with no sslmode; add the query string you test. */
  url(host: string, query: string): DatabaseUrl;
  /** The CA that signed the server certificate, and another CA that did not. */
  caFile: string;
  otherCaFile: string;
  password: string;
  stop(): Promise<void>;
}

/** True when the openssl CLI the TLS tests use to make certificates is on this machine. */
export async function hasOpenssl(): Promise<boolean> {
  return await run('openssl', ['version']).then(
    () => true,
    () => false,
  );
}

/**
 * A PostgreSQL that accepts TLS connections only (`hostssl` lines alone in pg_hba.conf), with a
 * certificate made here by the openssl CLI: a test CA signs a server certificate for DNS name
 * `localhost` only, so verify-full passes for `localhost` and fails for `127.0.0.1`.
 */
export async function startTlsOnlyServer(): Promise<TlsServer> {
  const dir = await mkdtemp(join(tmpdir(), 'replay-env-tls-'));
  const ssl = async (...args: string[]): Promise<void> => void (await run('openssl', args, { cwd: dir }));
  for (const ca of ['ca', 'other-ca']) {
    await ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=replay-env test ${ca}`,
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.crt`,
    );
  }
  await ssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
  );
  await writeFile(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost\n');
  await ssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'san.ext',
    '-out',
    'server.crt',
  );
  const server = await startEmbeddedPostgres({ settings: { fsync: 'off' } });
  const owner = await stat(server.dataDir);
  for (const name of ['server.crt', 'server.key']) {
    const target = join(server.dataDir, name);
    await writeFile(target, await readFile(join(dir, name)), { mode: 0o600 });
    await chown(target, owner.uid, owner.gid);
  }
  const password = 'tls-app-pw-0417';
  const admin = new pg.Client({ connectionString: server.adminUrl.connectionString() });
  await admin.connect();
  try {
    await admin.query(`create role app login password '${password}'`);
    await admin.query(`alter system set ssl = on`);
    const hba = join(server.dataDir, 'pg_hba.conf');
    await writeFile(
      hba,
      'hostssl all all 127.0.0.1/32 scram-sha-256\nhostssl all all ::1/128 scram-sha-256\n',
    );
    await admin.query('select pg_reload_conf()');
    await new Promise((resolve) => setTimeout(resolve, 300));
  } finally {
    await admin.end();
  }
  return {
    server,
    caFile: join(dir, 'ca.crt'),
    otherCaFile: join(dir, 'other-ca.crt'),
    password,
    url: (host, query) =>
      DatabaseUrl.parse(
        `postgres://app:${password}@${host}:${server.port}/postgres${query ? `?${query}` : ''}`,
      ),
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
