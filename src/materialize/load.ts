import { loadDirect } from './load-direct.js';
import { loadStaged } from './load-staged.js';
import type { LoadOptions, LoadOutcome } from './load-steps.js';

export type { LoadOptions, LoadOutcome, MaterializeProgress } from './load-steps.js';
export type { MaterializePhase } from './load-timing.js';

/**
 * The materialize transaction (SPEC §5): stage every capsule row into temp tables, check columns, delete
 * the graph's rows (reverse load order, for the original and the rewritten graph), upsert in load order,
 * verify that every capsule row is in its table, commit. Any failure rolls back, leaving the replay
 * database exactly as it was.
 *
 * Two paths do it: the `copy` strategy's direct path (load-direct.ts) when the capsule allows it, else
 * the staging path (load-staged.ts); the steps they share are in load-steps.ts.
 */
export async function loadCapsule(options: LoadOptions): Promise<LoadOutcome> {
  if (options.strategy === 'copy' && !options.explain && options.direct !== false) {
    const outcome = await loadDirect(options);
    if (outcome) return outcome;
  }
  return loadStaged(options);
}
