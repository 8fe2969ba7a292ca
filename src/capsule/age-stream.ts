import { readFile } from 'node:fs/promises';
import { Duplex, PassThrough, Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

import { CapsuleError, UsageError } from '../errors.js';

/** The first bytes of every binary age file (https://age-encryption.org/v1). */
export const ageMagic = Buffer.from('age-encryption.org/v1', 'ascii');

/** Env var naming the identity file readers use when `--identity` is not given. */
export const identityEnv = 'REPLAY_ENV_AGE_IDENTITY';

/**
 * A Duplex: plaintext bytes in, age ciphertext (binary format, readable by the `age` CLI) out, in
 * 64 KiB chunks as age-encryption streams them. Recipients are `age1…` strings.
 */
export async function ageEncryptStream(recipients: readonly string[]): Promise<Duplex> {
  const { Encrypter } = await ageLibrary();
  const encrypter = new Encrypter();
  for (const recipient of recipients) {
    try {
      encrypter.addRecipient(recipient);
    } catch (error) {
      throw new UsageError(
        `--encrypt-to ${recipient.slice(0, 80)} is not an age recipient (age1…): ${(error as Error).message}`,
      );
    }
  }
  const input = new PassThrough();
  const encrypted = await encrypter.encrypt(Readable.toWeb(input) as unknown as ReadableStream<Uint8Array>);
  const output = Readable.fromWeb(encrypted as unknown as WebReadableStream<Uint8Array>);
  return Duplex.from({ writable: input, readable: output });
}

/**
 * Decrypts an age stream with the identities in `identityFile` (the `age-keygen` format: comment lines
 * and `AGE-SECRET-KEY-1…` lines). Resolves once the header was read and an identity matched; a wrong or
 * missing identity is a CapsuleError (exit 6) naming the file, never the key.
 */
export async function ageDecryptStream(
  ciphertext: Readable,
  capsulePath: string,
  identityFile: string | undefined,
): Promise<Readable> {
  if (!identityFile)
    throw new CapsuleError(`capsule ${capsulePath} is age-encrypted and no identity was given`, {
      code: 'capsule_encrypted',
      hint: `pass --identity FILE (an age-keygen identity file) or set ${identityEnv}`,
    });
  const { Decrypter } = await ageLibrary();
  const decrypter = new Decrypter();
  for (const key of await readIdentities(identityFile)) decrypter.addIdentity(key);
  let plain: ReadableStream<Uint8Array>;
  try {
    plain = await decrypter.decrypt(Readable.toWeb(ciphertext) as unknown as ReadableStream<Uint8Array>);
  } catch (error) {
    throw new CapsuleError(
      `capsule ${capsulePath} cannot be decrypted with identity ${identityFile}: ${(error as Error).message}`,
      { code: 'capsule_decrypt_failed', cause: error },
    );
  }
  return Readable.fromWeb(plain as unknown as WebReadableStream<Uint8Array>);
}

async function readIdentities(identityFile: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(identityFile, 'utf8');
  } catch (error) {
    throw new CapsuleError(`identity file ${identityFile} cannot be read: ${(error as Error).message}`, {
      code: 'identity_unreadable',
    });
  }
  const keys = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('AGE-SECRET-KEY-'));
  if (keys.length === 0)
    throw new CapsuleError(`identity file ${identityFile} holds no AGE-SECRET-KEY- line`, {
      code: 'identity_invalid',
    });
  return keys;
}

/**
 * age-encryption and its post-quantum and curve libraries, loaded only when a capsule is encrypted or
 * decrypted: importing them costs every command ~0.1 s of CPU at start-up.
 */
async function ageLibrary(): Promise<typeof import('age-encryption')> {
  return import('age-encryption');
}
