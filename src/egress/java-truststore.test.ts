import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { generateCACertificate } from 'mockttp';
import { describe, expect, it } from 'vitest';

import { javaTrustStore, javaTrustStorePassword, pemCertificates } from './java-truststore.js';

const keytool = ['/usr/bin/keytool', '/usr/lib/jvm/java-17-openjdk-amd64/bin/keytool'].find((path) =>
  existsSync(path),
);
if (!keytool) console.warn('⏭  skipping the keytool check of the Java trust store: keytool is not installed');

describe('the Java trust store of a run', () => {
  it('splits a PEM bundle into its certificates', () => {
    const one = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----';
    expect(pemCertificates(`# comment\n${one}\nnoise\n${one}\n`)).toEqual([one, one]);
  });

  it('leaves out what is not a certificate, and seals the rest with the JKS digest', async () => {
    const ca = await generateCACertificate({ subject: { commonName: 'jks test CA' } });
    const store = javaTrustStore(
      [ca.cert, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'],
      0,
    );
    expect(store.readUInt32BE(0)).toBe(0xfeedfeed);
    expect(store.readUInt32BE(8)).toBe(1);
  });

  it.skipIf(!keytool)(
    'keytool reads it, checks its password digest, and lists the CA as trusted',
    async () => {
      const ca = await generateCACertificate({ subject: { commonName: 'jks test CA' } });
      const other = await generateCACertificate({ subject: { commonName: 'second CA' } });
      const file = join(await mkdtemp(join(tmpdir(), 'replay-env-jks-')), 'trust.jks');
      await writeFile(file, javaTrustStore([ca.cert, other.cert]));
      const list = await promisify(execFile)(keytool!, [
        '-list',
        '-v',
        '-keystore',
        file,
        '-storepass',
        javaTrustStorePassword,
      ]);
      expect(list.stdout).toMatch(/Keystore type: JKS/);
      expect(list.stdout).toMatch(/Your keystore contains 2 entries/);
      expect(list.stdout.match(/Entry type: trustedCertEntry/g)).toHaveLength(2);
      expect(list.stdout).toContain('Owner: CN=jks test CA');
      // A wrong password fails the digest: the digest is really checked.
      const wrong = await promisify(execFile)(keytool!, [
        '-list',
        '-keystore',
        file,
        '-storepass',
        'wrong-one',
      ]).then(
        () => ({ stdout: 'accepted' }),
        (error: { stdout: string }) => error,
      );
      expect(wrong.stdout).toMatch(/password was incorrect|tampered/);
    },
    60_000,
  );
});
