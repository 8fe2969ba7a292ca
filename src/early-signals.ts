import { ExitCode } from './exit-codes.js';

/**
 * Ctrl-C or SIGTERM during a command's start-up — Node loading the CLI, the command reading its manifest,
 * gate and judges files: up to ~1.5 s for `run`, longer on a slow disk — comes before the command's own
 * handler exists, and Node's default then kills the process: no line, no trace. For the commands that
 * stop cleanly on a signal (they call takeHeldSignal when they install their handler: run/interrupt.ts),
 * bin/run.js holds such a signal from its first line instead; the command takes it and stops at once, as
 * if it had come a moment later. A second signal while one is held ends the process at once with one
 * line (death by that signal: the shell's 130 / 143); a held signal that no handler took still sets the
 * exit code.
 */

/** Conventional shell exit statuses for death by SIGINT (128+2) and SIGTERM (128+15). */
export const interruptExitCodes = { SIGINT: ExitCode.interrupted, SIGTERM: ExitCode.terminated } as const;
export type InterruptSignal = keyof typeof interruptExitCodes;

/** The commands whose handler takes a held signal (each installs handleInterrupts). */
const commandsTakingSignals = new Set(['run', 'check', 'materialize-postgres', 'replay']);

let held: InterruptSignal | undefined;
let holding = false;

const onInt = (): void => hold('SIGINT');
const onTerm = (): void => hold('SIGTERM');

function hold(signal: InterruptSignal): void {
  if (held) {
    // No CLI layer is loaded yet to say it: one plain line. Then the signal's own death (the shell's
    // 130 / 143), not process.exit, which joins libuv's threads and so waits for a file open that blocks
    // (a FIFO, a hung network mount) before exiting.
    process.stderr.write(
      `error: stopped at once by a second ${signal} during start-up; the command had not begun\n`,
    );
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    process.kill(process.pid, signal);
    return;
  }
  held = signal;
}

function onExit(): void {
  if (held && !process.exitCode) process.exitCode = interruptExitCodes[held];
}

/** Holds SIGINT/SIGTERM until takeHeldSignal when `argv` (the CLI's arguments) names such a command. */
export function holdSignalsDuringStartUp(argv: readonly string[]): void {
  if (holding || !commandsTakingSignals.has(argv[0] ?? '')) return;
  holding = true;
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  process.on('exit', onExit);
}

/**
 * Stops holding (the caller has just installed its own handlers) and returns the signal that came
 * meanwhile, if any: the caller acts on it now.
 */
export function takeHeldSignal(): InterruptSignal | undefined {
  if (!holding) return undefined;
  holding = false;
  process.off('SIGINT', onInt);
  process.off('SIGTERM', onTerm);
  process.off('exit', onExit);
  const signal = held;
  held = undefined;
  return signal;
}
