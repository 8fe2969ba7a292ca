import { createHash } from 'node:crypto';
import { readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { generateIdentity } from 'age-encryption';
import { describe, expect } from 'vitest';

import { auditLogName } from '../setup/capsule-folder.js';
import { parseJsonOutput, runCli } from '../setup/cli.js';
import { dbTest, testerPassword } from '../setup/database.js';
import {
  auditSteps,
  exportShop,
  governanceFolder,
  loadShop,
  outputLines,
  readAuditEntries,
} from '../setup/governance.js';

const sha256File = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000);

const runShop = (url: string, capsule: string, extra: string[] = [], env: Record<string, string> = {}) =>
  loadShop('run', url, capsule, extra, env);

describe('prune --older-than', () => {
  dbTest(
    'by modification time: --dry-run lists and keeps, then removes the capsule and its files',
    async ({ db }) => {
      const { dir, url } = await governanceFolder(db);
      for (const name of ['old.json', 'new.json']) {
        const exported = await exportShop(url, join(dir, name));
        expect(exported.exitCode, exported.stderr).toBe(0);
      }
      await writeFile(join(dir, 'old-shot.png'), 'png');
      await writeFile(join(dir, 'new-shot.png'), 'png');
      await utimes(join(dir, 'old.json'), daysAgo(40), daysAgo(40));
      await utimes(join(dir, 'new.json'), daysAgo(20), daysAgo(20));
      const before = (await readdir(dir)).sort();

      const dry = await runCli(['prune', dir, '--older-than', '30d', '--dry-run', '--json']);
      expect(dry.exitCode, dry.stderr).toBe(0);
      expect(parseJsonOutput<{ removed: unknown[] }>(dry.stdout).removed).toEqual([
        { capsule: 'old.json', reason: 'older than 30d', derived: ['old-shot.png'] },
      ]);
      expect((await readdir(dir)).sort()).toEqual(before);

      const pruned = await runCli(['prune', dir, '--older-than', '30d']);
      expect(pruned.exitCode, pruned.stderr).toBe(0);
      expect(pruned.stdout).toMatch(/removed old\.json/);
      expect((await readdir(dir)).sort()).toEqual(before.filter((name) => !name.startsWith('old')));

      // 10 days later in effect: a shorter window takes the other one too.
      const shorter = await runCli(['prune', dir, '--older-than', '2w', '--json']);
      expect(parseJsonOutput<{ removed: { capsule: string }[] }>(shorter.stdout).removed).toEqual([
        { capsule: 'new.json', reason: 'older than 14d', derived: ['new-shot.png'] },
      ]);
      expect(auditSteps(await readAuditEntries(dir))).toEqual([
        'export-postgres:ok',
        'export-postgres:ok',
        'prune:ok',
        'prune:ok',
      ]);
    },
  );
});

describe('audit lines of run', () => {
  dbTest(
    'run appends one line: fields, capsule sha256, target host/db, no credentials, mode 0600',
    async ({ db }) => {
      const { dir, url } = await governanceFolder(db);
      const capsule = join(dir, 'c.json');
      expect((await exportShop(url, capsule)).exitCode).toBe(0);
      const ran = await runShop(url, capsule, ['--trace-out', join(dir, 'c.trace.json'), '--json']);
      expect([0, 10, 11]).toContain(ran.exitCode);
      const gate = parseJsonOutput<{ gate: string; exitCode: number }>(ran.stdout);

      const entries = await readAuditEntries(dir);
      expect(auditSteps(entries)).toEqual(['export-postgres:ok', 'run:ok']);
      const line = entries[1]!;
      expect(line).toMatchObject({
        command: 'run',
        app: 'shop',
        capsule: 'c.json',
        capsuleSha256: await sha256File(capsule),
        target: db.url.identity(),
        gate: gate.gate,
        exitCode: gate.exitCode,
        outcome: 'ok',
      });
      expect(Date.parse(String(line.time))).toBeGreaterThan(Date.now() - 600_000);
      expect(typeof line.user).toBe('string');
      expect(String(line.trace)).toMatch(/c\.trace\.json$/);
      const text = await readFile(join(dir, auditLogName), 'utf8');
      expect(text).not.toContain(testerPassword());
      expect(text).not.toContain('postgres://');
      expect((await stat(join(dir, auditLogName))).mode & 0o777).toBe(0o600);
    },
  );

  dbTest('a refused run is audited as failed with its error code; exit 6, one line', async ({ db }) => {
    const { dir, keyFile, recipient, url } = await governanceFolder(db);
    const sealed = join(dir, 'sealed.json.age');
    expect((await exportShop(url, sealed, ['--encrypt-to', recipient])).exitCode).toBe(0);

    const noIdentity = await runShop(url, sealed, [], { REPLAY_ENV_AGE_IDENTITY: '' });
    expect(noIdentity.exitCode).toBe(6);
    expect(outputLines(noIdentity.stderr)[0]).toMatch(/^error: capsule .*sealed\.json\.age is age-encrypted/);

    // A wrong identity: another key.
    const other = join(dir, 'other.txt');
    await writeFile(other, `${await generateIdentity()}\n`, { mode: 0o600 });
    const wrong = await runShop(url, sealed, ['--identity', other]);
    expect(wrong.exitCode).toBe(6);
    expect(outputLines(wrong.stderr)[0]).toMatch(/^error: capsule .*sealed\.json\.age cannot be decrypted/);
    expect(outputLines(wrong.stderr).filter((line) => !line.startsWith('hint:'))).toHaveLength(1);

    const ok = await runShop(url, sealed, ['--identity', keyFile]);
    expect([0, 10, 11]).toContain(ok.exitCode);

    const entries = await readAuditEntries(dir);
    const steps = auditSteps(entries);
    expect(steps[0]).toBe('export-postgres:ok');
    expect(steps[1]).toBe('run:failed:capsule_encrypted');
    expect(steps[2]).toBe('run:failed:capsule_decrypt_failed');
    expect(steps[3]).toBe('run:ok');
    for (const entry of entries.slice(1, 3)) {
      expect(entry).toMatchObject({ app: 'shop', capsule: 'sealed.json.age', outcome: 'failed' });
      expect(entry.capsuleSha256).toBe(await sha256File(sealed));
    }
    const text = await readFile(join(dir, auditLogName), 'utf8');
    expect(text).not.toContain(testerPassword());
    expect(text).not.toContain('AGE-SECRET-KEY');
  });

  dbTest(
    'run refuses an expired capsule (exit 6, saying when) unless --allow-expired; both audited',
    async ({ db }) => {
      const { dir, url } = await governanceFolder(db);
      const capsule = join(dir, 'old.json');
      expect((await exportShop(url, capsule, ['--expires-in', '1m'])).exitCode).toBe(0);
      const text = await readFile(capsule, 'utf8');
      const expired = text.replace(/"expiresAt": "[^"]*"/, '"expiresAt": "2020-01-01T00:00:00.000Z"');
      expect(expired).not.toBe(text);
      await writeFile(capsule, expired);

      const refused = await runShop(url, capsule);
      expect(refused.exitCode).toBe(6);
      expect(outputLines(refused.stderr)[0]).toMatch(
        /^error: capsule .*old\.json expired at 2020-01-01T00:00:00\.000Z$/,
      );
      const allowed = await runShop(url, capsule, ['--allow-expired']);
      expect([0, 10, 11]).toContain(allowed.exitCode);
      expect(allowed.stderr).not.toMatch(/expired at/);
      expect(auditSteps(await readAuditEntries(dir))).toEqual([
        'export-postgres:ok',
        'run:failed:capsule_expired',
        'run:ok',
      ]);
    },
  );
});
