// The `replay` service: the engine is the session domain's (src/session/replay-session.ts), which the
// run's session probes use too; the command calls it through here.
export {
  type ReplayEvent,
  replaySession,
  type ReplaySessionOptions,
  type ReplaySessionResult,
} from '../session/replay-session.js';
