import fc from 'fast-check';
import { serialize } from 'pg-protocol';
import { describe, expect, it } from 'vitest';

import { FrontendDecoder, ProtocolError } from './frontend-decoder.js';

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
});
