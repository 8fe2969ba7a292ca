import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { startEgressGuard } from '../../../src/egress/guard.js';

/** This machine's first non-loopback IPv4 address, if it has one. */
const outside = Object.values(networkInterfaces())
  .flat()
  .find((address) => address && address.family === 'IPv4' && !address.internal)?.address;

/** Whether a proxy request sent over a connection from `from` to `port` gets any answer. */
function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port }, () =>
      socket.write('GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n'),
    );
    let data = '';
    socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(data.startsWith('HTTP/')));
    setTimeout(() => socket.destroy(), 3000);
  });
}

// A step's egress proxy must not be an open proxy for the rest of the network: mockttp listens on every
// interface, so the guard closes every connection that does not come from loopback (red team, session 23).
describe.skipIf(!outside)(
  `egress proxy${outside ? '' : ' (SKIPPED: no non-loopback IPv4 address here)'}`,
  () => {
    it("answers on 127.0.0.1 and closes connections to this machine's other address unanswered", async () => {
      const guard = await startEgressGuard({ path: join(process.cwd(), 'app.json'), raw: {} as never });
      try {
        const proxy = await guard.proxyFor('command', 'probe-me');
        const port = Number(new URL(proxy.url).port);
        expect(await answers('127.0.0.1', port)).toBe(true);
        expect(await answers(outside!, port)).toBe(false);
      } finally {
        await guard.stop();
      }
      expect(guard.events.map((event) => [event.host, event.verdict])).toEqual([['example.com', 'denied']]);
    });
  },
);
