import { spawnSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

import { generateIdentity, identityToRecipient } from 'age-encryption';
import { describe, expect } from 'vitest';

import { runCli } from '../setup/cli.js';
import { dbTest } from '../setup/database.js';
import {
  ageCliInstalled,
  exportShop,
  governanceFolder,
  originalToolApp,
  outputLines,
  readAuditEntries,
} from '../setup/governance.js';

/** The shop manifest with a `capsule` section, written into `dir`. */
async function manifestWith(dir: string, capsule: Record<string, unknown>): Promise<string> {
  const manifest = JSON.parse(await readFile(originalToolApp, 'utf8')) as Record<string, unknown>;
  const path = join(dir, 'manifest.json');
  await writeFile(path, JSON.stringify({ ...manifest, capsule }));
  return path;
}

/** The capsule header's expiresAt, read from the plain (gzip) bytes. */
const expiresAtOf = (gzipped: Buffer) => /"expiresAt": ?"([^"]+)"/.exec(gunzipSync(gzipped).toString())?.[1];

const hours = (from: number, iso: string | undefined) => (Date.parse(iso ?? '') - from) / 3_600_000;

describe('manifest capsule policy (capsule.encryptTo / requireEncryption / retentionDays)', () => {
  dbTest('encryptTo alone encrypts the export; retentionDays writes expiresAt', async ({ db }) => {
    const { dir, keyFile, recipient, url } = await governanceFolder(db);
    const app = await manifestWith(dir, { encryptTo: [recipient], retentionDays: 7 });
    const out = join(dir, 'c.json.gz.age');
    const started = Date.now();
    const exported = await exportShop(url, out, ['--json'], app);
    expect(exported.exitCode, exported.stderr).toBe(0);
    const sealed = await readFile(out);
    expect(sealed.subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    const [entry] = await readAuditEntries(dir);
    expect((entry!.recipients as string[]).length).toBe(1);

    if (ageCliInstalled) {
      const decrypted = spawnSync('age', ['-d', '-i', keyFile, out]);
      expect(decrypted.status, decrypted.stderr.toString()).toBe(0);
      const days = hours(started, expiresAtOf(decrypted.stdout)) / 24;
      expect(days).toBeGreaterThan(6.99);
      expect(days).toBeLessThan(7.01);
    } else {
      console.warn('SKIPPED age CLI decryption: `age` is not installed');
    }
    const inspected = await runCli(['inspect', out, '--identity', keyFile]);
    expect(inspected.exitCode).toBe(0);
    expect(inspected.stdout).toMatch(/verified/);

    // --out without .age while the manifest asks for encryption: refused before writing.
    const plainOut = join(dir, 'plain.json');
    const refused = await exportShop(url, plainOut, [], app);
    expect(refused.exitCode).toBe(2);
    expect(outputLines(refused.stderr)[0]).toMatch(/must end with \.age .*capsule\.encryptTo/);
    expect(await readdir(dir)).not.toContain('plain.json');
  });

  dbTest(
    'flags win: --encrypt-to replaces encryptTo, --expires-in replaces retentionDays',
    async ({ db }) => {
      const { dir, recipient: manifestRecipient, url } = await governanceFolder(db);
      const app = await manifestWith(dir, { encryptTo: [manifestRecipient], retentionDays: 30 });
      const flagIdentity = await generateIdentity();
      const flagKey = join(dir, 'flag-key.txt');
      await writeFile(flagKey, `${flagIdentity}\n`, { mode: 0o600 });
      const out = join(dir, 'c.json.gz.age');
      const started = Date.now();
      const flagRecipient = await identityToRecipient(flagIdentity);
      const exported = await exportShop(url, out, ['--encrypt-to', flagRecipient, '--expires-in', '2h'], app);
      expect(exported.exitCode, exported.stderr).toBe(0);
      if (!ageCliInstalled) {
        console.warn('SKIPPED age CLI decryption: `age` is not installed');
        return;
      }
      const withManifestKey = spawnSync('age', ['-d', '-i', join(dir, 'key.txt'), out]);
      expect(withManifestKey.status).not.toBe(0);
      const withFlagKey = spawnSync('age', ['-d', '-i', flagKey, out]);
      expect(withFlagKey.status).toBe(0);
      const inHours = hours(started, expiresAtOf(withFlagKey.stdout));
      expect(inHours).toBeGreaterThan(1.99);
      expect(inHours).toBeLessThan(2.01);
    },
  );

  dbTest(
    'requireEncryption refuses an unencrypted export: one line, exit 2, nothing written',
    async ({ db }) => {
      const { dir, recipient, url } = await governanceFolder(db);
      const app = await manifestWith(dir, { requireEncryption: true });
      const before = (await readdir(dir)).sort();
      for (const out of ['c.json', 'c.json.gz', 'c.json.age']) {
        const refused = await exportShop(url, join(dir, out), [], app);
        expect(refused.exitCode).toBe(2);
        const lines = outputLines(refused.stderr);
        expect(lines[0]).toBe(
          'error: the manifest sets capsule.requireEncryption: refusing an unencrypted export',
        );
        expect(lines.slice(1).every((line) => line.startsWith('hint: '))).toBe(true);
        expect(refused.stdout).toBe('');
      }
      // Nothing at all: no capsule, no temp file, no audit line (the refusal happens before any of them).
      expect((await readdir(dir)).sort()).toEqual(before);

      const satisfied = await exportShop(url, join(dir, 'c.json.age'), ['--encrypt-to', recipient], app);
      expect(satisfied.exitCode, satisfied.stderr).toBe(0);
    },
  );

  dbTest(
    'a manifest without a capsule section still exports plain (old manifests unchanged)',
    async ({ db }) => {
      const { dir, url } = await governanceFolder(db);
      const out = join(dir, 'c.json');
      const exported = await exportShop(url, out);
      expect(exported.exitCode, exported.stderr).toBe(0);
      expect((await readFile(out, 'utf8')).startsWith('{')).toBe(true);
      expect(await readFile(out, 'utf8')).not.toMatch(/"expiresAt"/);
    },
  );
});

describe('manifest capsule section validation', () => {
  dbTest('a bad recipient or retentionDays is a manifest error naming the pointer', async ({ db }) => {
    const { dir, url } = await governanceFolder(db);
    const app = await manifestWith(dir, { encryptTo: ['ssh-rsa AAAA'], retentionDays: 0 });
    const refused = await exportShop(url, join(dir, 'c.json.age'), [], app);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/\/capsule\/encryptTo\/0/);
    expect(refused.stderr).toMatch(/\/capsule\/retentionDays/);
    expect(await readdir(dir)).not.toContain('c.json.age');
  });
});
