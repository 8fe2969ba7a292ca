import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { Encrypter, generateIdentity, identityToRecipient } from 'age-encryption';
import { describe, expect } from 'vitest';

import { sampleApp } from '../../src/demo/sample-app.js';
import { shippedLoopOn } from '../integration/golden/helpers.js';
import { parseJsonOutput, runCli } from '../setup/cli.js';
import { dbTest } from '../setup/database.js';
import { outputLines } from '../setup/governance.js';
import { teamdeskManifestFile } from '../setup/teamdesk-app.js';

const teamdeskApp = await teamdeskManifestFile();
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * Replaces scenario capsule `name` (under the loop's scenarios/) with `bytes` written as `newName`, and
 * pins its new sha256 in scenarios.yaml, as `scenario add` would have.
 */
async function replaceCapsule(loop: string, name: string, newName: string, bytes: Uint8Array) {
  const old = join(loop, 'scenarios', name);
  const oldSha = sha256(await readFile(old));
  await rm(old);
  await writeFile(join(loop, 'scenarios', newName), bytes);
  const file = join(loop, 'scenarios.yaml');
  const yaml = await readFile(file, 'utf8');
  const next = yaml
    .replace(`capsule: scenarios/${name}\n`, `capsule: scenarios/${newName}\n`)
    .replace(oldSha, sha256(bytes));
  expect(next).not.toBe(yaml);
  await writeFile(file, next);
}

interface CheckJson {
  scenarios: { id: string; verdict: string }[];
}

/** The `error:` lines (stderr also holds one progress line per scenario that ran). */
const errorLines = (stderr: string) => outputLines(stderr).filter((line) => line.startsWith('error:'));

const verdicts = (stdout: string) =>
  Object.fromEntries(parseJsonOutput<CheckJson>(stdout).scenarios.map((s) => [s.id, s.verdict]));

describe('check reads governed capsules (--identity, --allow-expired)', () => {
  dbTest(
    'an age-encrypted scenario capsule needs an identity; an expired one needs --allow-expired',
    async ({ db }) => {
      const { loop } = await shippedLoopOn(db);
      const env = { [sampleApp.replayEnv]: db.url.connectionString(), REPLAY_ENV_AGE_IDENTITY: '' };
      const identity = await generateIdentity();
      const keyFile = join(loop, '..', 'key.txt');
      await writeFile(keyFile, `${identity}\n`, { mode: 0o600 });
      const encrypter = new Encrypter();
      encrypter.addRecipient(await identityToRecipient(identity));
      const ada = await readFile(join(loop, 'scenarios', 'teamdesk-acme-ada.json'));
      await replaceCapsule(
        loop,
        'teamdesk-acme-ada.json',
        'teamdesk-acme-ada.json.age',
        await encrypter.encrypt(ada),
      );
      const zed = await readFile(join(loop, 'scenarios', 'teamdesk-acme-zed.json'), 'utf8');
      const expiredZed = zed.replace(
        '"redaction": "safe",\n',
        '"redaction": "safe",\n  "expiresAt": "2020-01-01T00:00:00.000Z",\n',
      );
      expect(expiredZed).not.toBe(zed);
      await replaceCapsule(
        loop,
        'teamdesk-acme-zed.json',
        'teamdesk-acme-zed-expired.json',
        Buffer.from(expiredZed),
      );
      const check = (extra: string[]) =>
        runCli(['check', '--loop', loop, '--app', teamdeskApp, ...extra], { env });

      // One clear line and exit 6 for the whole check: a missing identity / retention concerns every scenario.
      const noIdentity = await check([]);
      expect(noIdentity.exitCode).toBe(6);
      expect(noIdentity.stdout).toBe('');
      expect(errorLines(noIdentity.stderr)).toHaveLength(1);
      expect(errorLines(noIdentity.stderr)[0]).toMatch(
        /^error: capsule .*teamdesk-acme-ada\.json\.age is age-encrypted and no identity was given$/,
      );

      const expired = await check(['--identity', keyFile]);
      expect(expired.exitCode).toBe(6);
      expect(errorLines(expired.stderr)).toHaveLength(1);
      expect(errorLines(expired.stderr)[0]).toMatch(
        /^error: capsule .*teamdesk-acme-zed-expired\.json expired at 2020-01-01T00:00:00\.000Z$/,
      );
      expect(expired.stderr).not.toContain(identity);

      const allowed = await check(['--identity', keyFile, '--allow-expired', '--json']);
      expect(allowed.exitCode, allowed.stderr).toBe(0);
      expect(verdicts(allowed.stdout)).toEqual({
        'cross-user-comment-thread': 'continue',
        'local-identity-replay': 'warn',
        'legacy-data-shapes': 'not_executable',
      });
      // The identity from the environment works the same.
      const viaEnv = await runCli(
        ['check', '--loop', loop, '--app', teamdeskApp, '--allow-expired', '--json'],
        {
          env: { ...env, REPLAY_ENV_AGE_IDENTITY: keyFile },
        },
      );
      expect(viaEnv.exitCode, viaEnv.stderr).toBe(0);
    },
  );
});
