import { interruptExitCodes, type InterruptSignal, takeHeldSignal } from '../early-signals.js';
import { ReplayEnvError } from '../errors.js';
import { killAllGroupsNow } from './process-group.js';

// Defined beside the start-up hold (which loads before anything else), used from here by the services.
export { interruptExitCodes, type InterruptSignal };

/** The run was interrupted; process trees were stopped and the trace written before this is thrown. */
export class RunInterruptedError extends ReplayEnvError {
  constructor(signal: InterruptSignal) {
    super('interrupted', `interrupted by ${signal}; background and running processes were stopped`, {
      exitCode: interruptExitCodes[signal],
    });
  }
}

/** The CLI's one `error:` line when a second signal ends the process at once (no catch runs then). */
let forcedExitNotice: ((message: string) => void) | undefined;

export function setForcedExitNotice(notice: ((message: string) => void) | undefined): void {
  forcedExitNotice = notice;
}

/**
 * Turns SIGINT/SIGTERM into an abort of `controller` (the run stops its process trees, writes the trace
 * and exits 130/143). A second signal kills every tracked group at once and exits immediately. A signal
 * held since the command's start-up (early-signals.ts) aborts `controller` at once.
 * Returns a function that removes the handlers.
 */
export function handleInterrupts(controller: AbortController): () => void {
  const handler = (signal: InterruptSignal): void => {
    if (controller.signal.aborted) {
      killAllGroupsNow();
      forcedExitNotice?.(
        `stopped at once by a second ${signal}: process trees killed, no trace or report written (an open transaction is rolled back by the server as the connection drops)`,
      );
      process.exit(interruptExitCodes[signal]);
    }
    controller.abort(signal);
  };
  const onInt = (): void => handler('SIGINT');
  const onTerm = (): void => handler('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  // One that came during the command's start-up (early-signals.ts) stops it now.
  const early = takeHeldSignal();
  if (early) handler(early);
  return () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  };
}
