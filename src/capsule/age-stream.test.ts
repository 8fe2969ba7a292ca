import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { generateIdentity, identityToRecipient } from 'age-encryption';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ExitCode } from '../exit-codes.js';
import { setCapsuleAccess } from './capsule-access.js';
import { openCapsule } from './open-capsule.js';
import { type CapsuleHeaderInput, createCapsuleWriter } from './writer.js';

const ageCli = spawnSync('age', ['--version']).status === 0;
let dir: string;
let identityFile: string;
let recipient: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'capsule-age-'));
  const identity = await generateIdentity();
  recipient = await identityToRecipient(identity);
  identityFile = join(dir, 'key.txt');
  await writeFile(identityFile, `# test key\n${identity}\n`, { mode: 0o600 });
});
afterEach(async () => {
  setCapsuleAccess({ refuseExpired: false });
  await rm(dir, { recursive: true, force: true });
});

const header: CapsuleHeaderInput = {
  app: 'shop',
  adapter: 'postgres-subject-graph.v1',
  exportedAt: '2026-11-21T23:45:40.535064+00:00',
  subject: { shop_id: 's1' },
  graph: [{ shop_id: 's1', reasons: ['subject'] }],
};
const rows = Array.from({ length: 5000 }, (_, i) => ({ id: i, note: `row ${i} ${'x'.repeat(i % 50)}` }));

async function write(name: string, encryptTo?: string[]) {
  const writer = await createCapsuleWriter(join(dir, name), header, encryptTo ? { encryptTo } : {});
  await writer.writeTable('orders', rows);
  return writer.finish();
}

describe('age-encrypted capsules', () => {
  for (const gz of ['', '.gz']) {
    it.skipIf(!ageCli)(
      `the age CLI decrypts a .json${gz}.age capsule to the plain export's bytes`,
      async () => {
        await write(`plain.json${gz}`);
        const written = await write(`secret.json${gz}.age`, [recipient]);
        const stored = await readFile(written.path);
        expect(stored.subarray(0, 21).toString()).toBe('age-encryption.org/v1');
        const plain = await readFile(join(dir, `plain.json${gz}`));
        const decrypted = execFileSync('age', ['-d', '-i', identityFile, written.path], {
          maxBuffer: 1 << 28,
        });
        // gzip output is deterministic for the same input and level (no name/mtime in the header).
        expect(decrypted.equals(plain)).toBe(true);
      },
    );

    it(`openCapsule reads a .json${gz}.age capsule with the identity and verifies it`, async () => {
      await write(`secret.json${gz}.age`, [recipient]);
      setCapsuleAccess({ identityFile, refuseExpired: false });
      const reader = await openCapsule(join(dir, `secret.json${gz}.age`));
      let count = 0;
      for await (const row of reader.rows()) if (row.table === 'orders') count++;
      expect(count).toBe(rows.length);
      expect(reader.summary().integrity.status).toBe('verified');
    });
  }

  it('without an identity, opening is one clear integrity error (exit 6)', async () => {
    await write('secret.json.age', [recipient]);
    setCapsuleAccess({ refuseExpired: false });
    const previous = process.env.REPLAY_ENV_AGE_IDENTITY;
    delete process.env.REPLAY_ENV_AGE_IDENTITY;
    try {
      await expect(openCapsule(join(dir, 'secret.json.age'))).rejects.toMatchObject({
        code: 'capsule_encrypted',
        exitCode: ExitCode.integrity,
      });
    } finally {
      if (previous !== undefined) process.env.REPLAY_ENV_AGE_IDENTITY = previous;
    }
  });

  it('with the wrong identity, opening fails with exit 6 and never prints the key', async () => {
    await write('secret.json.age', [recipient]);
    const other = await generateIdentity();
    const otherFile = join(dir, 'other.txt');
    await writeFile(otherFile, `${other}\n`);
    setCapsuleAccess({ identityFile: otherFile, refuseExpired: false });
    const error = (await openCapsule(join(dir, 'secret.json.age')).catch((e: unknown) => e)) as Error & {
      exitCode: number;
    };
    expect(error.exitCode).toBe(ExitCode.integrity);
    expect(error.message).not.toContain(other);
  });

  it('refuses a recipient that is not age1…', async () => {
    await expect(write('bad.json.age', ['not-a-recipient'])).rejects.toMatchObject({ code: 'usage' });
  });
});
