import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import { afterEach, describe, expect, it, vi } from 'vitest';

import { startEgressGuard } from '../../../src/egress/guard.js';

/** Status of a GET of `url` through the HTTP proxy at `proxy`, or the client's error code. */
function getThrough(proxy: string, url: string): Promise<number | string> {
  const { hostname, port } = new URL(proxy);
  return new Promise((resolve) => {
    const req = request({ host: hostname, port, path: url, headers: { host: new URL(url).host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    req.end();
  });
}

afterEach(() => {
  vi.restoreAllMocks();
});

// Red team D6: an upstream that hangs up mid-request (a browser probe stopped while its page loads) made
// mockttp print `Failed to handle request: socket hang up` on the run's stderr, a stray line in the
// library's words among the run's own.
describe('egress guard, upstream failure', () => {
  it('answers the client with an error and prints nothing of its own', async () => {
    const upstream = createServer((req) => req.socket.destroy());
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const printed = vi.spyOn(console, 'error');
    const guard = await startEgressGuard({ path: join(process.cwd(), 'app.json'), raw: {} as never });
    try {
      const proxy = await guard.proxyFor('probe', 'hangs');
      const { port } = upstream.address() as AddressInfo;
      const answer = await getThrough(proxy.url, `http://127.0.0.1:${port}/slow`);
      expect(typeof answer === 'string' || answer >= 500).toBe(true);
    } finally {
      await guard.stop();
      await new Promise((resolve) => upstream.close(resolve));
    }
    expect(printed.mock.calls).toEqual([]);
    // Restored once the guard stopped: the process's own errors still print.
    console.error('after the guard');
    expect(printed.mock.calls).toEqual([['after the guard']]);
  });
});
