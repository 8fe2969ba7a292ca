import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';

import pg from 'pg';
import { serialize } from 'pg-protocol';
import postgres from 'postgres';
import { describe, expect } from 'vitest';

import { type RecordingProxyOptions, startRecordingProxy } from '../../../src/services/record.js';
import { selfSignedCertificate } from '../../../src/session/self-signed.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';
import { tempDir } from './helpers.js';

const run = promisify(execFile);
const psql = ['/usr/bin/psql', '/usr/local/bin/psql'].find((path) => existsSync(path));
if (!psql) console.warn('SKIPPED: client TLS with psql (no psql on this machine)');

async function withProxy(
  db: TestDatabase,
  clientTls: RecordingProxyOptions['clientTls'],
  work: (port: number, fingerprint: string | undefined) => Promise<void>,
): Promise<void> {
  const proxy = await startRecordingProxy({
    listen: '127.0.0.1:0',
    target: db.url,
    pseudoUsers: [{ name: 'app_user', password: 'app-pw' }],
    sessionsDir: await tempDir('client-tls'),
    clientTls,
  });
  try {
    await work(proxy.address.port, proxy.clientTls?.fingerprint256);
  } finally {
    await proxy.close();
  }
}

describe('TLS from clients', () => {
  dbTest(
    'node-postgres and postgres.js with sslmode=require get TLS with the per-run certificate',
    async ({ db }) => {
      await withProxy(db, 'self-signed', async (port, fingerprint) => {
        expect(fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
        const client = new pg.Client({
          host: '127.0.0.1',
          port,
          user: 'app_user',
          password: 'app-pw',
          ssl: { rejectUnauthorized: false },
        });
        await client.connect();
        const stream = (client as unknown as { connection: { stream: TLSSocket } }).connection.stream;
        expect(stream.encrypted).toBe(true);
        expect(stream.getPeerX509Certificate()?.fingerprint256).toBe(fingerprint);
        expect((await client.query('select 40 + 2 as n')).rows).toEqual([{ n: 42 }]);
        await client.end();
        const sql = postgres({
          host: '127.0.0.1',
          port,
          user: 'app_user',
          password: 'app-pw',
          ssl: 'require',
          max: 1,
        });
        expect(await sql`select ${'tls'}::text as t`).toEqual([{ t: 'tls' }]);
        await sql.end();
      });
    },
  );

  dbTest(
    'a certificate the user gives is verified by a client that trusts it (verify-full)',
    async ({ db }) => {
      const dir = await tempDir('client-tls-files');
      const own = selfSignedCertificate('my proxy');
      await writeFile(join(dir, 'proxy.crt'), own.cert);
      await writeFile(join(dir, 'proxy.key'), own.key, { mode: 0o600 });
      await withProxy(
        db,
        { certFile: join(dir, 'proxy.crt'), keyFile: join(dir, 'proxy.key') },
        async (port, fingerprint) => {
          expect(fingerprint).toBe(own.fingerprint256);
          const client = new pg.Client({
            host: 'localhost',
            port,
            user: 'app_user',
            password: 'app-pw',
            ssl: { ca: own.cert, rejectUnauthorized: true },
          });
          await client.connect();
          expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
          await client.end();
          if (psql) {
            const result = await run(
              psql,
              [
                '-X',
                '-At',
                '-c',
                '\\conninfo',
                `host=localhost port=${port} user=app_user dbname=x sslmode=verify-full sslrootcert=${join(dir, 'proxy.crt')}`,
              ],
              { env: { ...process.env, PGPASSWORD: 'app-pw' } },
            );
            expect(result.stdout).toMatch(/SSL connection \(protocol: TLSv1\.[23]/);
          }
        },
      );
    },
  );

  dbTest.runIf(psql !== undefined)(
    'psql with sslmode=require records through TLS; --no-client-tls refuses it',
    async ({ db }) => {
      await withProxy(db, 'self-signed', async (port) => {
        const result = await run(
          psql!,
          [
            '-X',
            '-At',
            '-c',
            '\\conninfo',
            '-c',
            'select 6 * 7',
            `host=127.0.0.1 port=${port} user=app_user dbname=x sslmode=require`,
          ],
          {
            env: { ...process.env, PGPASSWORD: 'app-pw' },
          },
        );
        expect(result.stdout).toMatch(/SSL connection/);
        expect(result.stdout).toContain('42');
      });
      await withProxy(db, 'off', async (port) => {
        await expect(
          run(
            psql!,
            ['-X', '-c', 'select 1', `host=127.0.0.1 port=${port} user=app_user dbname=x sslmode=require`],
            {
              env: { ...process.env, PGPASSWORD: 'app-pw' },
            },
          ),
        ).rejects.toThrow(/server does not support SSL/);
      });
    },
  );

  dbTest(
    'bytes sent after SSLRequest before the handshake are refused, not read as plaintext',
    async ({ db }) => {
      await withProxy(db, 'self-signed', async (port) => {
        const socket = connect({ host: '127.0.0.1', port });
        const received: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => received.push(chunk));
        await new Promise((resolve) => socket.once('connect', resolve));
        socket.write(
          Buffer.concat([
            Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]),
            serialize.startup({ user: 'app_user', database: 'x' }),
            serialize.password('app-pw'),
            serialize.query('select 1'),
          ]),
        );
        await new Promise((resolve) => socket.once('close', resolve));
        const reply = Buffer.concat(received);
        expect(reply[0]).toBe(0x45); // 'E': an ErrorResponse, no 'S' and no login
        expect(reply.toString()).toContain('data after SSLRequest');
      });
    },
  );
});
