import { materialize } from '../services/materialize.js';
import { replaySession } from '../services/replay.js';

export type MaterializeFn = typeof materialize;
export type ReplaySessionFn = typeof replaySession;

/** Services `run` calls (materialize-postgres's and replay's); tests may replace them. */
export interface RunDependencies {
  materialize: MaterializeFn;
  replaySession: ReplaySessionFn;
}

export function defaultDependencies(): RunDependencies {
  return { materialize, replaySession };
}
