import { ExitCode, type ExitCodeValue } from './exit-codes.js';

/**
 * Base of every error replay-env reports to a user. `code` is stable (scripts match on it),
 * `message` is one line safe to print (never a secret), `hint` an optional next step.
 * Anything that is not a ReplayEnvError is a bug and is reported as `internal`.
 */
export class ReplayEnvError extends Error {
  readonly code: string;
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;

  constructor(
    code: string,
    message: string,
    options: { exitCode?: ExitCodeValue; hint?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = options.exitCode ?? ExitCode.usage;
    this.hint = options.hint;
  }
}

/** A bad flag value or combination. */
export class UsageError extends ReplayEnvError {
  constructor(message: string, hint?: string) {
    super('usage', message, { exitCode: ExitCode.usage, hint });
  }
}

/** The app manifest cannot be read or is invalid; `problems` lists every `file: /pointer: message`. */
export class ManifestError extends ReplayEnvError {
  readonly problems: string[];
  constructor(message: string, problems: string[] = [], hint?: string) {
    super('manifest_invalid', message, { exitCode: ExitCode.usage, hint });
    this.problems = problems;
  }
}

/** A `--subject`/`--rewrite-subject` value that does not fit the manifest's subject keys. */
export class SubjectError extends ReplayEnvError {
  constructor(message: string, hint?: string) {
    super('subject_invalid', message, { exitCode: ExitCode.usage, hint });
  }
}

/** A capsule that cannot be read, is truncated, corrupt, of another app, or fails its integrity check. */
export class CapsuleError extends ReplayEnvError {
  constructor(message: string, options: { hint?: string; cause?: unknown; code?: string } = {}) {
    super(options.code ?? 'capsule_invalid', message, { exitCode: ExitCode.integrity, ...options });
  }
}

/** A database could not be reached, or a statement failed. The message never holds a password. */
export class DatabaseError extends ReplayEnvError {
  readonly sqlState: string | undefined;
  constructor(
    message: string,
    options: { hint?: string; cause?: unknown; sqlState?: string; code?: string } = {},
  ) {
    super(options.code ?? 'database_error', message, { exitCode: ExitCode.database, ...options });
    this.sqlState = options.sqlState;
  }
}

/** A target that looks like production (or is the export source) was refused. */
export class UnsafeTargetError extends ReplayEnvError {
  constructor(message: string, hint?: string) {
    super('unsafe_target', message, { exitCode: ExitCode.unsafeTarget, hint });
  }
}

/** A child process (command, probe) could not be started or failed in a way that stops the tool. */
export class SubprocessError extends ReplayEnvError {
  constructor(message: string, hint?: string) {
    super('subprocess_failed', message, { exitCode: ExitCode.subprocess, hint });
  }
}

/** A file could not be read or written (capsule, trace, session). */
export class FileError extends ReplayEnvError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('file_error', message, { exitCode: ExitCode.usage, ...options });
  }
}

export function isReplayEnvError(error: unknown): error is ReplayEnvError {
  return error instanceof ReplayEnvError;
}

/** One line: collapses newlines so an error is always a single line on stderr. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
