import { createServer, type Server } from 'node:http';
import { networkInterfaces } from 'node:os';

import { generateCACertificate, getLocal, type Mockttp } from 'mockttp';

/** This machine's first non-loopback IPv4 address: reachable without leaving the machine, not exempt. */
export function nonLoopbackAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((address) => address?.family === 'IPv4' && !address.internal)?.address;
}

/**
 * A stand-in for the internet, on this machine: an HTTP(S) proxy (mockttp with its own CA) that answers
 * every request itself — `upstream METHOD host path`, or three bytes that are not UTF-8 for `/binary` —
 * so what the egress guard lets through is forwarded for real (TCP to a non-loopback address, TLS
 * verified against `ca`), and no packet leaves the machine.
 */
export interface FakeInternet {
  /** The proxy URL the guard forwards to (`egressUpstream.proxyUrl`). */
  proxyUrl: string;
  /** The CA its HTTPS answers are signed with (`egressUpstream.trustedCAs`). */
  ca: string;
  /** `METHOD host/path` of every request that reached it. */
  seen: string[];
  stop(): Promise<void>;
}

export async function startFakeInternet(address: string): Promise<FakeInternet> {
  const ca = await generateCACertificate({ subject: { commonName: 'replay-env test upstream CA' } });
  const server: Mockttp = getLocal({ https: { key: ca.key, cert: ca.cert } });
  const seen: string[] = [];
  await server.forAnyRequest().thenCallback((request) => {
    const url = new URL(request.url);
    seen.push(`${request.method} ${url.hostname}${url.pathname}`);
    if (url.pathname === '/binary') return { statusCode: 200, rawBody: Buffer.from([0xff, 0xfe, 0x00]) };
    return {
      statusCode: 200,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'set-cookie': 'session=upstream-cookie' },
      body: `upstream ${request.method} ${url.hostname}${url.pathname}`,
    };
  });
  await server.start();
  return { proxyUrl: `http://${address}:${server.port}`, ca: ca.cert, seen, stop: () => server.stop() };
}

/** A plain HTTP server bound to `address` only (no loopback), answering `direct <path>`. */
export async function startDirectServer(address: string): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    response.setHeader('content-type', 'text/plain');
    response.end(`direct ${new URL(request.url ?? '/', 'http://x').pathname}`);
  });
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  return { url: `http://${address}:${(server.address() as { port: number }).port}`, server };
}
