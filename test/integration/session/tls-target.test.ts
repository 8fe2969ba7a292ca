import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { connect, negotiatedTls } from '../../../src/postgres/connect.js';
import { DatabaseUrl } from '../../../src/postgres/database-url.js';
import { startRecordingProxy } from '../../../src/services/record.js';
import { hasOpenssl, startTlsOnlyServer, type TlsServer } from '../../setup/tls-server.js';
import { proxyClient, readSession, tempDir } from './helpers.js';

const opensslPresent = await hasOpenssl();
if (!opensslPresent) console.warn('SKIPPED: TLS target tests need the openssl CLI to make certificates');

describe.skipIf(!opensslPresent)(
  'upstream TLS with libpq sslmode semantics, against a TLS-only server',
  () => {
    let tls: TlsServer;
    beforeAll(async () => {
      tls = await startTlsOnlyServer();
    });
    afterAll(async () => {
      await tls?.stop();
    });

    const summary = async (url: DatabaseUrl): Promise<string> => {
      const client = await connect(url, { action: 'test' });
      try {
        const [row] = (
          await client.query<{ ssl: boolean }>('select ssl from pg_stat_ssl where pid = pg_backend_pid()')
        ).rows;
        expect(row?.ssl).toBe(true);
        return negotiatedTls(client)!.summary;
      } finally {
        await client.end();
      }
    };

    it('connects with require (no verification), prefer (the default) and verify-full', async () => {
      expect(await summary(tls.url('127.0.0.1', 'sslmode=require'))).toMatch(
        /^TLSv1\.[23], certificate not verified \(sslmode=require\)$/,
      );
      expect(await summary(tls.url('127.0.0.1', ''))).toContain('(sslmode=prefer)');
      expect(await summary(tls.url('localhost', `sslmode=verify-full&sslrootcert=${tls.caFile}`))).toContain(
        'certificate and host name verified (sslmode=verify-full)',
      );
      expect(await summary(tls.url('127.0.0.1', `sslmode=verify-ca&sslrootcert=${tls.caFile}`))).toContain(
        'certificate chain verified, host name not checked',
      );
    });

    it('refuses what libpq refuses', async () => {
      // The certificate names localhost only.
      await expect(
        connect(tls.url('127.0.0.1', `sslmode=verify-full&sslrootcert=${tls.caFile}`)),
      ).rejects.toThrow(/IP: 127\.0\.0\.1 is not in the cert's list/);
      // require with a root certificate behaves as verify-ca (libpq), so a foreign CA fails.
      await expect(
        connect(tls.url('127.0.0.1', `sslmode=require&sslrootcert=${tls.otherCaFile}`)),
      ).rejects.toThrow(/certificate/);
      await expect(connect(tls.url('127.0.0.1', 'sslmode=disable'))).rejects.toThrow(/no encryption/);
      expect(() => tls.url('127.0.0.1', 'sslmode=verify-full').toString()).not.toThrow();
      await expect(connect(tls.url('127.0.0.1', 'sslmode=verify-full'))).rejects.toThrow(
        'sslmode=verify-full needs a root certificate',
      );
      await expect(connect(tls.url('127.0.0.1', 'sslmode=required'))).rejects.toThrow(
        'invalid sslmode "required"',
      );
      await expect(
        connect(tls.url('127.0.0.1', 'sslmode=require&sslcert=/nonexistent.crt&sslkey=/x.key')),
      ).rejects.toThrow('sslcert file /nonexistent.crt: no such file');
    });

    it.each([
      ['require', 'sslmode=require', '127.0.0.1'],
      ['verify-full', 'sslmode=verify-full&sslrootcert=CA', 'localhost'],
    ])('record goes through with %s and reports the negotiated TLS', async (_mode, query, host) => {
      const dir = await tempDir('tls-record');
      const proxy = await startRecordingProxy({
        listen: '127.0.0.1:0',
        target: tls.url(host, query.replace('CA', tls.caFile)),
        pseudoUsers: [{ name: 'pseudo_user', password: 'pseudo-pw' }],
        sessionsDir: dir,
        clientTls: 'off',
      });
      try {
        expect(proxy.target).toMatchObject({
          ok: true,
          tls: expect.stringMatching(/^TLSv1\.[23], /) as string,
        });
        const client = await proxyClient(proxy.address.port);
        const { rows } = await client.query<{ ssl: boolean }>(
          'select ssl from pg_stat_ssl where pid = pg_backend_pid()',
        );
        expect(rows).toEqual([{ ssl: true }]);
        await client.end();
      } finally {
        await proxy.close();
      }
      const [file] = proxy.sessionFiles();
      const events = await readSession(file!);
      expect(
        events.some((event) => event.type === 'query_result' && event.data.command_tag === 'SELECT 1'),
      ).toBe(true);
    });

    it('says the target requires TLS when the URL disables it, at startup and to the client', async () => {
      const proxy = await startRecordingProxy({
        listen: '127.0.0.1:0',
        target: tls.url('127.0.0.1', 'sslmode=disable'),
        pseudoUsers: [{ name: 'pseudo_user', password: 'pseudo-pw' }],
        sessionsDir: await tempDir('tls-record'),
        clientTls: 'off',
      });
      try {
        expect(proxy.target).toMatchObject({ ok: false, failure: 'tls-required' });
        await expect(proxyClient(proxy.address.port)).rejects.toThrow('the target requires TLS');
      } finally {
        await proxy.close();
      }
    });
  },
);

it('a plain server with sslmode=require is refused; prefer falls back to plaintext', async () => {
  const { inject } = await import('vitest');
  const base = DatabaseUrl.parse(inject('testerDatabaseUrl'));
  const withMode = (mode: string): DatabaseUrl =>
    DatabaseUrl.parse(`${base.connectionString()}?sslmode=${mode}`);
  await expect(connect(withMode('require'))).rejects.toThrow(/does not support SSL/);
  const client = await connect(withMode('prefer'));
  expect(negotiatedTls(client)?.summary).toBe('plaintext (sslmode=prefer)');
  await client.end();
  const proxy = await startRecordingProxy({
    listen: '127.0.0.1:0',
    target: withMode('require'),
    pseudoUsers: [{ name: 'pseudo_user', password: 'pseudo-pw' }],
    sessionsDir: await tempDir('tls-record'),
    clientTls: 'off',
  });
  expect(proxy.target).toMatchObject({ ok: false, failure: 'tls-unavailable' });
  await proxy.close();
});
