import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';

import fc from 'fast-check';
import pg from 'pg';
import { serialize } from 'pg-protocol';
import { describe, expect } from 'vitest';

import type { QueryResultEvent } from '../../../src/generated/session.js';
import { startRecordingProxy } from '../../../src/services/record.js';
import { replaySession } from '../../../src/services/replay.js';
import { SessionJournal } from '../../../src/session/session-journal.js';
import { dbTest, testerPassword } from '../../setup/database.js';
import { proxyClient, readSession, seedTable, tempDir } from './helpers.js';

async function openProxy(db: { url: Parameters<typeof startRecordingProxy>[0]['target'] }, extra = {}) {
  return await startRecordingProxy({
    listen: '127.0.0.1:0',
    target: db.url,
    pseudoUsers: [{ name: 'pseudo_user', password: 'pseudo-pw' }],
    sessionsDir: await tempDir('protocol'),
    ...extra,
  });
}

/** Sends bytes on a raw socket and collects everything until the proxy closes it. */
async function rawExchange(port: number, chunks: Buffer[], halfClose = true): Promise<Buffer> {
  const socket: Socket = connect({ host: '127.0.0.1', port });
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  await new Promise((resolve) => socket.once('connect', resolve));
  for (const chunk of chunks) socket.write(chunk);
  if (halfClose) socket.end();
  await new Promise((resolve) => {
    socket.once('close', resolve);
    setTimeout(() => socket.destroy(), 2000);
  });
  return Buffer.concat(received);
}

describe('proxy protocol handling', () => {
  dbTest('answers SSLRequest and GSSENCRequest with N, then logs in', async ({ db }) => {
    const proxy = await openProxy(db, { clientTls: 'off' });
    try {
      const ssl = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
      const gss = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30]);
      const reply = await rawExchange(
        proxy.address.port,
        [
          gss,
          ssl,
          serialize.startup({ user: 'pseudo_user', database: 'x' }),
          serialize.password('pseudo-pw'),
          serialize.query('select 41 + 1'),
          serialize.end(),
        ],
        false,
      );
      expect(reply.subarray(0, 2).toString()).toBe('NN');
      expect(reply.includes(Buffer.from('42'))).toBe(true);
      expect(reply.includes(Buffer.from('SELECT 1'))).toBe(true);
      // pg with sslmode=prefer-like behaviour: ssl requested, refused, continues in plain text.
      const client = new pg.Client({
        host: '127.0.0.1',
        port: proxy.address.port,
        user: 'pseudo_user',
        password: 'pseudo-pw',
        ssl: false,
      });
      await client.connect();
      await client.end();
    } finally {
      await proxy.close();
    }
  });

  dbTest('garbage from one client closes that connection only; the others go on', async ({ db }) => {
    const proxy = await openProxy(db);
    try {
      const good = await proxyClient(proxy.address.port);
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ minLength: 1, maxLength: 64 }),
          fc.boolean(),
          async (bytes, afterLogin) => {
            const prefix = afterLogin
              ? [serialize.startup({ user: 'pseudo_user' }), serialize.password('pseudo-pw')]
              : [];
            await rawExchange(proxy.address.port, [...prefix, Buffer.from(bytes)]);
            expect((await good.query('select 1 as ok')).rows).toEqual([{ ok: 1 }]);
          },
        ),
        { numRuns: 25 },
      );
      const reply = await rawExchange(proxy.address.port, [Buffer.from([0, 0, 0, 3, 1, 2, 3])]);
      expect(reply.includes(Buffer.from('08P01'))).toBe(true);
      await good.end();
    } finally {
      await proxy.close();
    }
  });

  dbTest('forwards a CancelRequest to the real backend', async ({ db }) => {
    const proxy = await openProxy(db);
    try {
      const client = await proxyClient(proxy.address.port);
      const keys = client as unknown as { processID: number; secretKey: number };
      const running = client.query('select pg_sleep(30)').then(
        () => 'not cancelled',
        (error: { code?: string }) => error.code,
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      await rawExchange(proxy.address.port, [serialize.cancel(keys.processID, keys.secretKey)]);
      expect(await running).toBe('57014');
      await client.end();
      await proxy.close();
      const events = await readSession(proxy.sessionFiles()[0]!);
      const result = events.find((event): event is QueryResultEvent => event.type === 'query_result');
      expect(result?.data.error?.code).toBe('57014');
    } finally {
      await proxy.close();
    }
  });

  dbTest(
    'applies redaction rules to recorded columns, and replay compares redacted values',
    async ({ db }) => {
      await db.query(
        `create table people (id int, email text, note text); insert into people values (1, 'ada@example.com', 'hi')`,
      );
      const proxy = await openProxy(db, {
        redaction: [
          { fields: ['email'], action: 'hash', prefix: 'replay-email-' },
          { fields: ['note'], action: 'null' },
        ],
      });
      const client = await proxyClient(proxy.address.port);
      await client.query('select id, email, note from people');
      await client.end();
      await proxy.close();
      const [file] = proxy.sessionFiles();
      const text = await readFile(file!, 'utf8');
      expect(text).not.toContain('ada@example.com');
      const result = (await readSession(file!)).find(
        (event): event is QueryResultEvent => event.type === 'query_result',
      );
      expect(result?.data.rows).toEqual([['1', 'replay-email-' + (await sha12('ada@example.com')), null]]);
      expect(await replaySession({ file: file!, databaseUrl: db.url, rollback: true })).toMatchObject({
        ok: true,
        matched: 1,
      });
    },
  );

  dbTest('replay reads a journal left by a killed proxy; record finalizes it at startup', async ({ db }) => {
    await db.query(seedTable);
    const dir = await tempDir('journal');
    const journal = SessionJournal.create(dir, 'pseudo_user', new Date('2025-10-07T21:30:15Z'));
    journal.append({
      type: 'query',
      timestamp: '2025-10-07T21:30:15Z',
      data: { query_number: 1, sql: 'select count(*) from test_data' },
    });
    journal.append({
      type: 'query_result',
      timestamp: '2025-10-07T21:30:15Z',
      data: {
        query_number: 1,
        columns: ['count'],
        rows: [['3']],
        row_count: 1,
        command_tag: 'SELECT 1',
        error: null,
      },
    });
    // The proxy flushes before forwarding each answer; then it is killed (nothing else is written).
    journal.flush();
    expect(
      await replaySession({ file: journal.journalPath, databaseUrl: db.url, rollback: false }),
    ).toMatchObject({ ok: true, matched: 1 });
    const proxy = await startRecordingProxy({
      listen: '127.0.0.1:0',
      target: db.url,
      pseudoUsers: [{ name: 'pseudo_user', password: 'pseudo-pw' }],
      sessionsDir: dir,
    });
    await proxy.close();
    expect(proxy.recovered).toEqual([`${dir}/pseudo_user_2025-10-07_21-30-15.json`]);
    const events = await readSession(proxy.recovered[0]!);
    expect(events.at(-1)).toMatchObject({ data: { activity: 'session_end', details: { recovered: true } } });
    expect(JSON.stringify(events)).not.toContain(testerPassword());
  });
});

async function sha12(value: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  return createHash('sha256').update(value).digest('hex').slice(0, 12);
}
