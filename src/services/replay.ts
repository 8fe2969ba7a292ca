// The `replay` service: the engine is the session domain's (src/session/replay-session.ts), which the
// run's session probes use too; the command calls it through here.
import { ReplayEnvError } from '../errors.js';
import { handleInterrupts, interruptExitCodes, type InterruptSignal } from '../run/interrupt.js';
import {
  replaySession,
  type ReplaySessionOptions,
  type ReplaySessionResult,
} from '../session/replay-session.js';

export {
  type ReplayEvent,
  replaySession,
  type ReplaySessionOptions,
  type ReplaySessionResult,
} from '../session/replay-session.js';

/** Ctrl-C / SIGTERM stopped a replay: its running statement was cancelled. */
export class ReplayInterrupted extends ReplayEnvError {
  constructor(signal: InterruptSignal, rolledBack: boolean, compared: number) {
    super(
      'interrupted',
      rolledBack
        ? `interrupted by ${signal} after ${compared} queries; the replay was rolled back`
        : `interrupted by ${signal} after ${compared} queries; what they committed is kept (--commit)`,
      { exitCode: interruptExitCodes[signal] },
    );
  }
}

/**
 * `replaySession` that SIGINT/SIGTERM stop cleanly: the running statement is cancelled (rather than left
 * to run on after the process dies), the replay's transaction rolled back, and ReplayInterrupted thrown.
 */
export async function replayUntilInterrupted(options: ReplaySessionOptions): Promise<ReplaySessionResult> {
  const controller = new AbortController();
  const removeHandlers = handleInterrupts(controller);
  let compared = 0;
  try {
    return await replaySession({
      ...options,
      signal: controller.signal,
      onEvent: (event) => {
        if (event.kind === 'verdict') compared++;
        options.onEvent?.(event);
      },
    });
  } catch (error) {
    const signal = controller.signal.reason as InterruptSignal | undefined;
    if (signal) throw new ReplayInterrupted(signal, options.rollback, compared);
    throw error;
  } finally {
    removeHandlers();
  }
}
