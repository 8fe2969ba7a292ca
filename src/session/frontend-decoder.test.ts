import { createHash } from 'node:crypto';

import fc from 'fast-check';
import { serialize } from 'pg-protocol';
import { describe, expect, it } from 'vitest';

import {
  FrontendDecoder,
  type FrontendMessage,
  ProtocolError,
  streamedMessageLength,
} from './frontend-decoder.js';
import { QueryTracker, type TrackedQuery } from './query-tracker.js';

const startup = serialize.startup({ user: 'alice', database: 'db' });

describe('FrontendDecoder', () => {
  it('decodes a startup packet and an extended-protocol batch, split at every byte', () => {
    const batch = Buffer.concat([
      serialize.parse({ name: 's1', text: 'select $1::int' }),
      serialize.bind({ statement: 's1', values: ['7', null] }),
      serialize.describe({ type: 'P' }),
      serialize.execute(),
      serialize.sync(),
      serialize.query('select 1'),
    ]);
    const bytes = Buffer.concat([startup, batch]);
    for (let cut = 0; cut <= bytes.length; cut += 1) {
      const decoder = new FrontendDecoder();
      const messages = [...decoder.push(bytes.subarray(0, cut)), ...decoder.push(bytes.subarray(cut))];
      expect(messages.map((message) => ('kind' in message ? message.kind : message.type))).toEqual([
        'startup',
        'parse',
        'bind',
        'describe',
        'execute',
        'sync',
        'query',
      ]);
      expect(messages[0]).toMatchObject({ parameters: { user: 'alice', database: 'db' } });
      expect(messages[2]).toMatchObject({ statement: 's1', params: [Buffer.from('7'), null] });
      expect(messages[6]).toMatchObject({ sql: 'select 1' });
      expect(Buffer.concat(messages.map((message) => message.raw))).toEqual(bytes);
    }
  });

  it.each([
    ['negative length', Buffer.from([0x51, 0xff, 0xff, 0xff, 0xff])],
    ['length below 4', Buffer.from([0x51, 0, 0, 0, 2])],
    [
      'bind with a param longer than the message',
      Buffer.from([0x42, 0, 0, 0, 12, 0, 0, 0, 0, 0, 1, 0, 0x7f]),
    ],
    ['unterminated query string', Buffer.from([0x51, 0, 0, 0, 6, 0x61, 0x62])],
    ['describe with a bad target', Buffer.from([0x44, 0, 0, 0, 6, 0x58, 0])],
  ])('rejects %s with a ProtocolError', (_name, bytes) => {
    const decoder = new FrontendDecoder();
    decoder.push(startup);
    expect(() => decoder.push(bytes)).toThrow(ProtocolError);
  });

  it('never throws anything but ProtocolError on random or truncated input', () => {
    const valid = Buffer.concat([
      serialize.parse({ text: 'select 1' }),
      serialize.bind({ values: ['a'] }),
      serialize.execute(),
      serialize.sync(),
    ]);
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.nat(valid.length),
        fc.boolean(),
        (random, cut, afterStartup) => {
          const decoder = new FrontendDecoder();
          try {
            if (afterStartup) decoder.push(startup);
            decoder.push(Buffer.concat([valid.subarray(0, cut), Buffer.from(random)]));
            decoder.push(Buffer.from(random));
          } catch (error) {
            if (!(error instanceof ProtocolError)) throw error;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('streams a message over the limit in parts (never holding it whole); the tracker keeps its start and digest', () => {
    const sql = `select '${'x'.repeat(streamedMessageLength + 12_345)}'`;
    const bytes = Buffer.concat([startup, serialize.query(sql), serialize.sync()]);
    const decoder = new FrontendDecoder();
    const messages: (FrontendMessage | { kind: string; raw: Buffer })[] = [];
    const chunk = 64 * 1024;
    for (let at = 0; at < bytes.length; at += chunk)
      messages.push(...decoder.push(bytes.subarray(at, at + chunk)));
    const parts = messages.filter((message) => 'type' in message && message.type === 'part');
    expect(parts.length).toBeGreaterThan(100);
    // No part is bigger than what arrived at once: the decoder holds no more than a chunk.
    expect(Math.max(...parts.map((part) => part.raw.length))).toBeLessThanOrEqual(chunk);
    expect(messages.at(-1)).toMatchObject({ type: 'sync' });
    expect(Buffer.concat(messages.map((message) => message.raw)).equals(bytes)).toBe(true);
    const queries: TrackedQuery[] = [];
    const tracker = new QueryTracker({ onQuery: (query) => queries.push(query), onResult: () => {} });
    for (const message of messages) if ('type' in message) tracker.frontend(message);
    const body = Buffer.concat([Buffer.from(sql), Buffer.from([0])]);
    expect(queries).toHaveLength(1);
    expect(queries[0]).toMatchObject({
      oversized: { bytes: body.length, digest: `sha256:${createHash('sha256').update(body).digest('hex')}` },
    });
    expect(queries[0]!.sql).toHaveLength(64 * 1024);
    expect(queries[0]!.sql.startsWith("select 'xxx")).toBe(true);
  });
});
