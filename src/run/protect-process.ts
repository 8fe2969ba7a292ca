import type { ParsedManifest } from '../manifest/index.js';
import { warn } from '../warnings.js';
import { withheldFromChildren } from './child-env.js';
import { shieldStartupEnvironment, type Withhold } from './startup-environment.js';

/**
 * Called by `run` (and once by `check`) when children inherit from this process, before the first one
 * starts: blanks what children must not get in the start-up environment a child can read in
 * `/proc/<pid>/environ`, and drops the production URL (which run never connects to) from process.env.
 * Returns the parent environment to build children's from, captured before that deletion.
 */
export function protectProcessEnvironment(manifest: Pick<ParsedManifest, 'postgres'>): NodeJS.ProcessEnv {
  const parentEnv = { ...process.env };
  shieldOrWarn(withheldFromChildren(manifest, parentEnv));
  delete process.env[manifest.postgres.prodDatabaseUrlEnv];
  return parentEnv;
}

/** Shields the start-up environment; where it cannot, one warning line naming the limit and the advice. */
export function shieldOrWarn(withhold: Withhold): void {
  const outcome = shieldStartupEnvironment(withhold);
  if (outcome.status === 'shielded' || outcome.names.length === 0) return;
  const names = outcome.names.slice(0, 5).join(', ') + (outcome.names.length > 5 ? ', …' : '');
  warn(
    `cannot blank ${names} in replay-env's start-up environment (${outcome.reason}): commands it starts can read them in /proc/<pid>/environ; unset them in the shell that runs replay-env (docs/safety.md)`,
  );
}
