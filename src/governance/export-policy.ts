import { UsageError } from '../errors.js';
import type { ParsedCapsulePolicy } from '../manifest/index.js';
import { parseDuration } from './duration.js';

export interface CapsulePolicyInput {
  out: string;
  /** `--encrypt-to` values; when any are given they replace the manifest's `capsule.encryptTo`. */
  encryptTo: readonly string[];
  /** `--expires-in`; replaces the manifest's `capsule.retentionDays`. */
  expiresIn: string | undefined;
  /** Manifest `capsule` section (optional, additive). */
  manifest?: Partial<ParsedCapsulePolicy> | undefined;
  now?: Date;
}

/**
 * Recipients and expiry of an export, from flags then the manifest; refuses inconsistent requests
 * before anything is written. `requireEncryption` has no flag to turn it off: it is the manifest
 * owner's rule, and a flag can only satisfy it (by naming recipients).
 */
export function resolveCapsulePolicy(input: CapsulePolicyInput): { encryptTo: string[]; expiresAt?: string } {
  const fromFlags = input.encryptTo.length > 0;
  const encryptTo = fromFlags ? [...input.encryptTo] : [...(input.manifest?.encryptTo ?? [])];
  const encrypted = /\.age$/i.test(input.out);
  if (encryptTo.length === 0 && input.manifest?.requireEncryption)
    throw new UsageError(
      'the manifest sets capsule.requireEncryption: refusing an unencrypted export',
      'pass --encrypt-to age1… (or set capsule.encryptTo in the manifest) and an --out ending with .age',
    );
  if (encryptTo.length > 0 && !encrypted)
    throw new UsageError(
      `--out ${input.out} must end with .age when encrypting (recipients from ${fromFlags ? '--encrypt-to' : 'the manifest capsule.encryptTo'})`,
      'e.g. --out c.json.gz.age',
    );
  if (encryptTo.length === 0 && encrypted)
    throw new UsageError(`--out ${input.out} ends with .age but no --encrypt-to recipient was given`);
  const retentionMs = input.expiresIn
    ? parseDuration(input.expiresIn, '--expires-in')
    : input.manifest?.retentionDays
      ? input.manifest.retentionDays * 86_400_000
      : undefined;
  if (retentionMs === undefined) return { encryptTo };
  const now = input.now ?? new Date();
  return { encryptTo, expiresAt: new Date(now.getTime() + retentionMs).toISOString() };
}
