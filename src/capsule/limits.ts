import { CapsuleError } from '../errors.js';

/**
 * Size limits that keep one hostile or broken capsule from taking the machine (docs/safety.md):
 * - a single line (one row's JSON) may hold at most 256 MiB — far above any real row, below V8's
 *   string limit (~512 Mi characters), so an overlong line is one clear error instead of a crash;
 * - a capsule may expand to at most 64 GiB of text when it is read (a gzip bomb stops there).
 * REPLAY_ENV_MAX_LINE_BYTES / REPLAY_ENV_MAX_CAPSULE_BYTES lower or raise them (tests use small values).
 */
export const defaultMaxLineBytes = 256 * 1024 * 1024;
export const defaultMaxExpandedBytes = 64 * 1024 * 1024 * 1024;

function fromEnv(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isSafeInteger(value) && value > 0 ? value : fallback;
}

export function maxLineBytes(): number {
  return fromEnv('REPLAY_ENV_MAX_LINE_BYTES', defaultMaxLineBytes);
}

export function maxExpandedBytes(): number {
  return fromEnv('REPLAY_ENV_MAX_CAPSULE_BYTES', defaultMaxExpandedBytes);
}

export function mib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round(bytes / (1024 * 1024))} MiB` : `${bytes} bytes`;
}

/** Thrown by the line splitter; the reader adds the table it was in. */
export class LineTooLongError extends CapsuleError {
  readonly line: number;
  constructor(line: number, limit: number, where = '') {
    super(`capsule line ${line}${where} is longer than ${mib(limit)} (the per-line limit)`, {
      code: 'capsule_line_too_long',
      hint: 'a single row this large is refused; see docs/safety.md (size limits)',
    });
    this.line = line;
  }
}
