import { X509Certificate } from 'node:crypto';
import { connect, createServer } from 'node:tls';

import { expect, it } from 'vitest';

import { selfSignedCertificate } from './self-signed.js';

it('builds a certificate that X.509 parsers and a TLS handshake accept', async () => {
  const { cert, key, fingerprint256 } = selfSignedCertificate();
  const parsed = new X509Certificate(cert);
  expect(parsed.subject).toBe('CN=replay-env proxy');
  expect(parsed.verify(parsed.publicKey)).toBe(true);
  expect(parsed.checkHost('localhost')).toBe('localhost');
  expect(parsed.checkIP('127.0.0.1')).toBe('127.0.0.1');
  expect(fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  expect(new Date(parsed.validTo).getTime()).toBeGreaterThan(Date.now() + 300 * 86_400_000);
  // Trusting exactly this certificate verifies the handshake, host name included.
  const server = createServer({ cert, key }, (socket) => socket.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca: cert, servername: 'localhost' }, () => {
      socket.once('data', (data) => resolve(data.toString()));
    });
    socket.on('error', reject);
  });
  server.close();
  expect(answer).toBe('ok');
  expect(selfSignedCertificate().fingerprint256).not.toBe(fingerprint256);
});

it('every certificate it builds parses (random serials are always minimal DER integers)', () => {
  // About 1 in 256 random serials made an unreadable certificate before the fix (a leading 0x00 before a
  // byte < 0x80, or a negative integer): the serial's first byte decides, so try every value of it.
  for (let first = 0; first < 256; first += 16) {
    for (const second of [0x00, 0x7f, 0x80, 0xff]) {
      const serial = Buffer.alloc(16, second);
      serial[0] = first;
      const parsed = new X509Certificate(selfSignedCertificate('replay-env proxy', serial).cert);
      expect(parsed.serialNumber).toMatch(/^[4-7][0-9A-F]{31}$/);
    }
  }
});
