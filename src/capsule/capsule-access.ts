import { isReplayEnvError } from '../errors.js';
import { identityEnv } from './age-stream.js';

/**
 * How readers open capsules in this process: the age identity file and whether an expired capsule may
 * be loaded. Set once by the command (from `--identity`/`--allow-expired`), read by openCapsule, so the
 * services between them need no new parameters.
 */
export interface CapsuleAccess {
  identityFile?: string | undefined;
  /** Refuse a capsule whose `expiresAt` has passed (materialize, run, check). */
  refuseExpired: boolean;
}

let access: CapsuleAccess = { refuseExpired: false };

export function setCapsuleAccess(next: CapsuleAccess): void {
  access = { ...next };
}

export function capsuleAccess(): CapsuleAccess {
  return { ...access, identityFile: access.identityFile || process.env[identityEnv] || undefined };
}

/**
 * The refusals of the governance rules themselves (encrypted without a usable identity, expired): a
 * command stops on them with exit 6 instead of treating them as an unreadable capsule's evidence.
 */
export function isCapsuleAccessRefusal(error: unknown): boolean {
  return (
    isReplayEnvError(error) &&
    /^(capsule_encrypted|capsule_decrypt_failed|capsule_expired|identity_)/.test(error.code)
  );
}
