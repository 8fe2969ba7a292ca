import { closeSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';

/**
 * The kernel keeps the environment a process was started with in its own memory, between `env_start`
 * and `env_end`, and shows it to any same-user process as `/proc/<pid>/environ` — deleting a variable
 * from `process.env` does not touch it. So a command started by `run` could read the production URL the
 * user exported in `/proc/$PPID/environ` (or its grandparent's, through `sh -c`).
 *
 * `shieldStartupEnvironment` overwrites, in that block, the VALUE of every variable children must not
 * get, with `*` of the same length (`NAME=` stays, so the block stays a well-formed list; the lengths
 * remain visible). The C `environ` of the process points into that block, so `process.env` would then
 * read the stars too: every overwritten value is put back with `process.env[name] = value`, which copies
 * it to the heap. The CLI behaves exactly as before; only the kernel's copy is blank.
 *
 * Linux only, through `/proc/self/mem` (writable by the process itself unless the kernel was booted with
 * `proc_mem.force_override=never`). Elsewhere it reports why it could not, and the caller warns.
 */
export type ShieldOutcome =
  { status: 'shielded'; names: string[] } | { status: 'unavailable'; reason: string; names: string[] };

/** Whether a variable (name and value as the process started with them) must be blanked. */
export type Withhold = (name: string, value: string) => boolean;

export interface EnvironmentEntry {
  name: string;
  value: string;
  /** Byte offset of the value in the block, and its length in bytes. */
  valueOffset: number;
  valueLength: number;
}

/** `env_start`/`env_end` (fields 50 and 51) of `/proc/<pid>/stat`, read after the last `)` (comm may hold any byte). */
export function environRange(stat: string): { start: number; end: number } | undefined {
  // Fields after the command name start at field 3 (state).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = Number(fields[50 - 3]);
  const end = Number(fields[51 - 3]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start <= 0 || end <= start)
    return undefined;
  return { start, end };
}

/** The `NAME=value` entries of a NUL-separated environment block (entries without `=` are skipped). */
export function parseEnvironBlock(block: Buffer): EnvironmentEntry[] {
  const entries: EnvironmentEntry[] = [];
  let offset = 0;
  while (offset < block.length) {
    let end = block.indexOf(0, offset);
    if (end === -1) end = block.length;
    const equals = block.indexOf(0x3d, offset);
    if (equals > offset && equals < end) {
      entries.push({
        name: block.toString('utf8', offset, equals),
        value: block.toString('utf8', equals + 1, end),
        valueOffset: equals + 1,
        valueLength: end - equals - 1,
      });
    }
    offset = end + 1;
  }
  return entries;
}

/** The entries to blank: withheld ones with a value that is not already all stars. */
export function entriesToBlank(block: Buffer, withhold: Withhold): EnvironmentEntry[] {
  return parseEnvironBlock(block).filter(
    (entry) => entry.valueLength > 0 && !/^\*+$/.test(entry.value) && withhold(entry.name, entry.value),
  );
}

/**
 * Blanks the withheld values of this process's start-up environment block; never throws. Idempotent.
 */
export function shieldStartupEnvironment(withhold: Withhold): ShieldOutcome {
  const withheldNow = (): string[] =>
    Object.entries(process.env)
      .filter(([name, value]) => value !== undefined && withhold(name, value))
      .map(([name]) => name);
  if (process.platform !== 'linux')
    return {
      status: 'unavailable',
      reason: `no /proc/self/mem on ${process.platform}`,
      names: withheldNow(),
    };
  let fd: number | undefined;
  let current = new Map<string, string | undefined>();
  try {
    const range = environRange(readFileSync('/proc/self/stat', 'utf8'));
    if (!range)
      return {
        status: 'unavailable',
        reason: '/proc/self/stat has no environment range',
        names: withheldNow(),
      };
    const block = Buffer.alloc(range.end - range.start);
    fd = openSync('/proc/self/mem', 'r+');
    readSync(fd, block, 0, block.length, range.start);
    const entries = entriesToBlank(block, withhold);
    // Captured before the block changes: getenv() reads it for every variable not set since start-up.
    current = new Map(entries.map((entry) => [entry.name, process.env[entry.name]]));
    for (const entry of entries) {
      const stars = Buffer.alloc(entry.valueLength, '*');
      writeSync(fd, stars, 0, stars.length, range.start + entry.valueOffset);
    }
    return { status: 'shielded', names: [...new Set(entries.map((entry) => entry.name))] };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return {
      status: 'unavailable',
      reason: `/proc/self/mem is not writable (${code})`,
      names: withheldNow(),
    };
  } finally {
    if (fd !== undefined) closeSync(fd);
    // Also after a failed write: whatever was blanked, the process itself keeps reading the real value.
    for (const [name, value] of current) {
      if (value !== undefined && process.env[name] !== value) process.env[name] = value;
    }
  }
}
