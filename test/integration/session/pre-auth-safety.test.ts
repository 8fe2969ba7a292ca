import { connect, type Socket } from 'node:net';

import pg from 'pg';
import { serialize } from 'pg-protocol';
import { describe, expect } from 'vitest';

import { DatabaseUrl } from '../../../src/postgres/database-url.js';
import type { RecordingProxyOptions } from '../../../src/services/record.js';
import { dbTest, type TestDatabase, testerPassword } from '../../setup/database.js';
import { startTestProxy } from './helpers.js';

/** #13 item 6: clients that never log in cannot deny the proxy to the others. */
async function withProxy(
  db: TestDatabase,
  extra: Partial<RecordingProxyOptions>,
  work: (port: number) => Promise<void>,
): Promise<void> {
  const proxy = await startTestProxy(db.url, 'pre-auth', {
    pseudoUsers: [{ name: 'app_user', password: 'app-pw' }],
    ...extra,
  });
  try {
    await work(proxy.address.port);
  } finally {
    await proxy.close();
  }
}

/** Writes `bytes`, resolves with what came back and how long until the proxy closed the socket. */
async function exchange(port: number, bytes: Buffer[]): Promise<{ reply: string; ms: number }> {
  const socket: Socket = connect({ host: '127.0.0.1', port });
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  const started = performance.now();
  for (const chunk of bytes) socket.write(chunk);
  await new Promise((resolve) => socket.once('close', resolve));
  return { reply: Buffer.concat(received).toString('latin1'), ms: performance.now() - started };
}

const login = (password: string) => [
  serialize.startup({ user: 'app_user', database: 'x' }),
  serialize.password(password),
];

async function good(port: number): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'app_user', password: 'app-pw' });
  await client.connect();
  expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  await client.end();
}

describe('pre-authentication limits of the recording proxy', () => {
  dbTest(
    'a 1 GB length prefix before login is refused at once; an oversized startup packet too',
    async ({ db }) => {
      await withProxy(db, {}, async (port) => {
        const huge = Buffer.from([0x70, 0x3f, 0xff, 0xff, 0xff]);
        const before = process.memoryUsage().rss;
        const answer = await exchange(port, [
          serialize.startup({ user: 'app_user', database: 'x' }),
          huge,
          Buffer.alloc(1 << 20),
        ]);
        expect(answer.reply).toContain('invalid message length');
        expect(process.memoryUsage().rss - before).toBeLessThan(100 * 1024 * 1024);
        const startup = Buffer.alloc(20_000);
        startup.writeInt32BE(20_000, 0);
        expect((await exchange(port, [startup])).reply).toContain('invalid startup packet length 20000');
        await good(port);
      });
    },
  );

  dbTest('a silent client is disconnected after the authentication timeout', async ({ db }) => {
    await withProxy(db, { authTimeoutMs: 400 }, async (port) => {
      const silent = await exchange(port, []);
      expect(silent.ms).toBeGreaterThan(300);
      expect(silent.ms).toBeLessThan(5_000);
      expect(silent.reply).toContain('authentication timeout');
      const halfway = await exchange(port, [serialize.startup({ user: 'app_user', database: 'x' })]);
      expect(halfway.reply).toContain('authentication timeout');
      await good(port);
    });
  });

  dbTest('wrong pseudo passwords are answered later and later from the same address', async ({ db }) => {
    await withProxy(db, {}, async (port) => {
      const times: number[] = [];
      for (let attempt = 0; attempt < 4; attempt += 1) {
        const answer = await exchange(port, login('wrong'));
        expect(answer.reply).toContain('password authentication failed');
        times.push(answer.ms);
      }
      // 250, 500, 1000, 2000 ms
      expect(times[0]).toBeGreaterThanOrEqual(200);
      expect(times[3]).toBeGreaterThanOrEqual(1_900);
      expect(times[3]!).toBeGreaterThan(times[1]! * 2);
      await good(port); // a success clears the address' count
      expect((await exchange(port, login('wrong'))).ms).toBeLessThan(1_000);
    });
  });

  dbTest(
    'connections that have not logged in are capped; logged-in sessions do not count',
    async ({ db }) => {
      await withProxy(db, { maxPendingLogins: 3 }, async (port) => {
        const idle = await Promise.all(
          [1, 2, 3].map(async () => {
            const socket = connect({ host: '127.0.0.1', port });
            socket.on('error', () => {});
            await new Promise((resolve) => socket.once('connect', resolve));
            return socket;
          }),
        );
        await new Promise((resolve) => setTimeout(resolve, 100));
        const refused = await exchange(port, login('app-pw'));
        expect(refused.reply).toBe('');
        for (const socket of idle) socket.destroy();
        await new Promise((resolve) => setTimeout(resolve, 100));
        await good(port);
      });
    },
  );

  dbTest('a non-loopback listen address is reported as a warning', async ({ db }) => {
    const proxy = await startTestProxy(db.url, 'pre-auth', {
      listen: '0.0.0.0:0',
      pseudoUsers: [{ name: 'app_user', password: 'app-pw' }],
      clientTls: 'self-signed',
      checkTarget: false,
    });
    expect(proxy.warnings).toEqual([
      expect.stringContaining('listening on 0.0.0.0, which other machines can reach'),
    ]);
    await proxy.close();
  });
});

describe('#13 item 7: a password given as ?password= is used for login and never printed', () => {
  dbTest('record logs in with it; the redacted form hides it', async ({ db }) => {
    const bare = new URL(db.url.connectionString());
    bare.password = '';
    bare.searchParams.set('password', testerPassword());
    const url = DatabaseUrl.parse(bare.toString());
    expect(url.password).toBe(testerPassword());
    expect(String(url)).not.toContain(testerPassword());
    expect(String(url)).toContain('password=***');
    await withProxy({ ...db, url }, {}, async (port) => good(port));
  });
});
