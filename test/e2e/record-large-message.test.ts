import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';

import { serialize } from 'pg-protocol';
import { expect } from 'vitest';

import type { QueryEvent, SessionEvent } from '../../src/generated/session.js';
import { readSession, tempDir } from '../integration/session/helpers.js';
import { dbTest } from '../setup/database.js';
import { startRecord } from '../setup/record-cli.js';

/** Resident memory of a process, in MiB (Linux). */
function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) / 1024;
}

/** Collects server messages; resolves with them once a ReadyForQuery arrives. */
function untilReady(socket: Socket): Promise<Buffer> {
  return new Promise((resolve) => {
    let data = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      data = Buffer.concat([data, chunk]);
      for (let at = 0; at + 5 <= data.length; at += 1 + data.readInt32BE(at + 1)) {
        if (data[at] === 0x5a && at + 1 + data.readInt32BE(at + 1) <= data.length) {
          socket.off('data', onData);
          resolve(data);
          return;
        }
      }
    };
    socket.on('data', onData);
  });
}

/** The text of the first DataRow's first value. */
function firstValue(messages: Buffer): string | undefined {
  for (let at = 0; at + 5 <= messages.length; at += 1 + messages.readInt32BE(at + 1)) {
    if (messages[at] === 0x44)
      return messages.toString('utf8', at + 11, at + 11 + messages.readInt32BE(at + 7));
  }
  return undefined;
}

// The filler is in a comment, so the server holds the text once; current_query() is all of it.
const head = 'select md5(current_query()) /* ';
const tail = ' */';
const total = 300 * 1024 * 1024;

/**
 * Red team item B (#13): one frontend message of hundreds of MiB used to be held whole by the proxy
 * (RSS 73 → 367 MiB, not released). It is now streamed through: the proxy's memory stays flat while a
 * 300 MiB Query passes, and the server gets exactly the bytes sent (it hashes the query text it got).
 */
dbTest(
  'a 300 MiB query passes through record with flat memory, byte for byte',
  { timeout: 240_000 },
  async ({ db }) => {
    const dir = await tempDir('e2e-large');
    const recorder = await startRecord(db.url.connectionString(), dir);
    const pid = recorder.child.pid!;
    try {
      const socket = connect(recorder.port, '127.0.0.1');
      await once(socket, 'connect');
      const login = untilReady(socket);
      socket.write(serialize.startup({ user: 'pseudo_user', database: 'x' }));
      await once(socket, 'data'); // AuthenticationCleartextPassword
      socket.write(serialize.password('pseudo-pw'));
      await login;
      const baseline = rssMiB(pid);
      // The filler is in a comment, so the server holds the text once; current_query() is all of it.
      const fillerChunk = Buffer.alloc(1024 * 1024, 'a');
      const fillerLength = total - head.length - tail.length;
      const header = Buffer.alloc(5);
      header.write('Q');
      header.writeInt32BE(4 + total + 1, 1);
      const hash = createHash('md5').update(head);
      const answer = untilReady(socket);
      socket.write(Buffer.concat([header, Buffer.from(head)]));
      let peak = baseline;
      for (let sent = 0; sent < fillerLength; sent += fillerChunk.length) {
        const piece = fillerChunk.subarray(0, Math.min(fillerChunk.length, fillerLength - sent));
        hash.update(piece);
        if (!socket.write(piece)) await once(socket, 'drain');
        peak = Math.max(peak, rssMiB(pid));
      }
      hash.update(tail);
      socket.write(Buffer.concat([Buffer.from(tail), Buffer.from([0])]));
      const reply = await answer;
      peak = Math.max(peak, rssMiB(pid));
      expect(firstValue(reply)).toBe(hash.digest('hex'));
      console.log(
        `record RSS: ${baseline.toFixed(0)} MiB before, peak ${peak.toFixed(0)} MiB while 300 MiB passed`,
      );
      expect(peak - baseline).toBeLessThan(64);
      socket.end(serialize.end());
      await once(socket, 'close');
    } finally {
      recorder.child.kill('SIGTERM');
      await recorder.child;
    }
    const file = (await readdir(dir)).find((name) => name.endsWith('.json'))!;
    const events: SessionEvent[] = await readSession(`${dir}/${file}`);
    const query = events.find((event): event is QueryEvent => event.type === 'query')!.data;
    expect(query.oversized).toMatchObject({ bytes: total + 1 });
    expect(query.sql.startsWith(head)).toBe(true);
    expect(query.sql.length).toBe(64 * 1024);
  },
);
