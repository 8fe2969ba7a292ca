// The `replay` service: the engine is the session domain's (src/session/replay-session.ts), which the
// run's session probes use too; the command calls it through here.
export {
  type ReplayedQuery,
  type ReplayEvent,
  replaySession,
  type ReplaySessionOptions,
  type ReplaySessionResult,
  type Verdict,
} from '../session/replay-session.js';
