import { UsageError } from '../errors.js';
import { parseDuration } from './duration.js';

export interface CapsulePolicyInput {
  out: string;
  encryptTo: readonly string[];
  expiresIn: string | undefined;
  /** Manifest `capsule` section (optional, additive). */
  manifest?: { encryptTo?: string[]; requireEncryption?: boolean; retentionDays?: number } | undefined;
  now?: Date;
}

/** Recipients and expiry of an export, from flags then the manifest; refuses inconsistent requests. */
export function resolveCapsulePolicy(input: CapsulePolicyInput): { encryptTo: string[]; expiresAt?: string } {
  const encryptTo =
    input.encryptTo.length > 0 ? [...input.encryptTo] : [...(input.manifest?.encryptTo ?? [])];
  const encrypted = /\.age$/i.test(input.out);
  if (encryptTo.length > 0 && !encrypted)
    throw new UsageError(`--out ${input.out} must end with .age when encrypting`, 'e.g. --out c.json.gz.age');
  if (encryptTo.length === 0 && encrypted)
    throw new UsageError(`--out ${input.out} ends with .age but no --encrypt-to recipient was given`);
  if (encryptTo.length === 0 && input.manifest?.requireEncryption)
    throw new UsageError(
      'the manifest sets capsule.requireEncryption: refusing an unencrypted export',
      'pass --encrypt-to age1… (or set capsule.encryptTo in the manifest)',
    );
  const retentionMs = input.expiresIn
    ? parseDuration(input.expiresIn, '--expires-in')
    : input.manifest?.retentionDays
      ? input.manifest.retentionDays * 86_400_000
      : undefined;
  if (retentionMs === undefined) return { encryptTo };
  const now = input.now ?? new Date();
  return { encryptTo, expiresAt: new Date(now.getTime() + retentionMs).toISOString() };
}
