import { spawnSync } from 'node:child_process';
import { readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect } from 'vitest';

import { parseJsonOutput, runCli } from '../setup/cli.js';
import { dbTest, testerPassword } from '../setup/database.js';
import {
  ageCliInstalled as ageCli,
  auditSteps,
  exportShop,
  governanceFolder,
  loadShop,
  originalToolApp as app,
  outputLines as lines,
  readAuditEntries,
} from '../setup/governance.js';

describe('capsule governance', () => {
  dbTest(
    'encrypted export: age CLI decrypts it to the plain export; readers need the identity',
    async ({ db }) => {
      const { dir, keyFile, identity, recipient, url } = await governanceFolder(db);
      const plain = join(dir, 'plain.json');
      const sealed = join(dir, 'sealed.json.age');
      const exported = await exportShop(url, plain);
      expect(exported.exitCode).toBe(0);
      const encrypted = await exportShop(url, sealed, ['--encrypt-to', recipient, '--json']);
      expect(encrypted.exitCode).toBe(0);
      expect((await readFile(sealed)).subarray(0, 21).toString()).toBe('age-encryption.org/v1');

      if (ageCli) {
        const decrypted = spawnSync('age', ['-d', '-i', keyFile, sealed]);
        expect(decrypted.status).toBe(0);
        // exportedAt differs between the two exports; everything else is byte-identical.
        const norm = (text: string) => text.replace(/"exportedAt": "[^"]*"|"sinceAt":"[^"]*"/g, '');
        expect(norm(decrypted.stdout.toString())).toBe(norm(await readFile(plain, 'utf8')));
      } else {
        console.warn('SKIPPED age CLI comparison: `age` is not installed');
      }

      const refused = await runCli(['inspect', sealed], { env: { REPLAY_ENV_AGE_IDENTITY: '' } });
      expect(refused.exitCode).toBe(6);
      expect(lines(refused.stderr)[0]).toMatch(/is age-encrypted and no identity was given/);
      // doctor reports it as a failed capsule check (exit 7, its own convention) instead of stopping.
      const doctor = await runCli(['doctor', '--app', app, '--capsule', sealed, '--db-url', url], {
        env: { REPLAY_ENV_AGE_IDENTITY: '' },
      });
      expect(doctor.exitCode).toBe(7);
      expect(doctor.stdout).toMatch(/is age-encrypted and no identity was given/);
      const doctorOk = await runCli([
        'doctor',
        '--app',
        app,
        '--capsule',
        sealed,
        '--identity',
        keyFile,
        '--db-url',
        url,
      ]);
      expect(doctorOk.stdout).not.toMatch(/age-encrypted/);
      const inspected = await runCli(['inspect', sealed, '--identity', keyFile]);
      expect(inspected.exitCode).toBe(0);
      expect(inspected.stdout).toMatch(/verified/);
      const viaEnv = await runCli(['inspect', sealed], { env: { REPLAY_ENV_AGE_IDENTITY: keyFile } });
      expect(viaEnv.exitCode).toBe(0);

      const materialized = await loadShop('materialize-postgres', url, sealed, [
        '--identity',
        keyFile,
        '--json',
      ]);
      expect(materialized.exitCode).toBe(0);
      expect(parseJsonOutput<{ verified: boolean }>(materialized.stdout).verified).toBe(true);

      const audit = await readFile(join(dir, '.replay-env-audit.jsonl'), 'utf8');
      expect((await stat(join(dir, '.replay-env-audit.jsonl'))).mode & 0o777).toBe(0o600);
      const entries = await readAuditEntries(dir);
      expect(entries.map((entry) => `${entry.command}:${entry.outcome}`)).toEqual([
        'export-postgres:ok',
        'export-postgres:ok',
        'materialize-postgres:ok',
      ]);
      expect(entries[1]).toMatchObject({
        capsule: 'sealed.json.age',
        source: db.url.identity(),
        redaction: 'safe',
        subjectKeys: ['shop_id', 'customer_id'],
      });
      expect((entries[1]!.recipients as string[]).length).toBe(1);
      expect(entries[2]!.subjectSha256).toBe(entries[1]!.subjectSha256);
      expect(audit).not.toContain(testerPassword());
      expect(audit).not.toContain('"c1"'); // subject values are hashed, never written
      expect(audit).not.toContain(identity);

      const printed = await runCli(['audit', dir, '--json']);
      expect(parseJsonOutput<{ entries: unknown[] }>(printed.stdout).entries).toHaveLength(3);
    },
  );

  dbTest('an expired capsule is refused, then pruned; --dry-run deletes nothing', async ({ db }) => {
    const { dir, url } = await governanceFolder(db);
    const out = join(dir, 'old.json.gz');
    const exported = await exportShop(url, out, ['--expires-in', '1m']);
    expect(exported.exitCode).toBe(0);
    const fresh = await loadShop('materialize-postgres', url, out);
    expect(fresh.exitCode).toBe(0);
    await writeFile(join(dir, 'old.trace.json'), JSON.stringify({ capsule: { sha256: 'not-this' } }));
    await writeFile(join(dir, 'old-shot.png'), 'png');
    await writeFile(join(dir, 'keep.json'), '{}');

    // Time travel: the prune and refusal compare expiresAt with now, so wait for the 1-minute expiry by
    // rewriting it instead — the header is plain gzip JSON we just wrote.
    const { gunzipSync, gzipSync } = await import('node:zlib');
    const text = gunzipSync(await readFile(out))
      .toString()
      .replace(/"expiresAt": "[^"]*"/, '"expiresAt": "2020-01-01T00:00:00.000Z"');
    await writeFile(out, gzipSync(text));

    const refused = await loadShop('materialize-postgres', url, out);
    expect(refused.exitCode).toBe(6);
    expect(lines(refused.stderr)[0]).toMatch(/expired at 2020-01-01T00:00:00.000Z/);
    const allowed = await loadShop('materialize-postgres', url, out, ['--allow-expired']);
    expect(allowed.exitCode).toBe(0);

    const before = (await readdir(dir)).sort();
    const dry = await runCli(['prune', dir, '--expired', '--dry-run', '--json']);
    expect(dry.exitCode).toBe(0);
    expect(parseJsonOutput<{ removed: unknown[] }>(dry.stdout).removed).toEqual([
      { capsule: 'old.json.gz', reason: 'expired at 2020-01-01T00:00:00.000Z', derived: ['old-shot.png'] },
    ]);
    expect((await readdir(dir)).sort()).toEqual(before);

    const pruned = await runCli(['prune', dir, '--expired']);
    expect(pruned.exitCode).toBe(0);
    expect(pruned.stdout).toMatch(/removed old\.json\.gz/);
    const after = (await readdir(dir)).sort();
    expect(after).not.toContain('old.json.gz');
    expect(after).not.toContain('old-shot.png');
    expect(after).toContain('keep.json');
    expect(after).toContain('old.trace.json'); // its capsule.sha256 names another capsule

    const audit = await readFile(join(dir, '.replay-env-audit.jsonl'), 'utf8');
    const commands = auditSteps(await readAuditEntries(dir));
    expect(commands).toEqual([
      'export-postgres:ok',
      'materialize-postgres:ok',
      'materialize-postgres:failed:capsule_expired',
      'materialize-postgres:ok',
      'prune:ok',
    ]);
    expect(audit).not.toContain(testerPassword());
    void utimes;
  });
});
