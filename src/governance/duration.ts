import { UsageError } from '../errors.js';

const unitMs = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** `7d`, `12h`, `30m`, `2w` → milliseconds. Anything else is a usage error naming the flag. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d{1,6})([mhdw])$/.exec(text.trim());
  if (!match || Number(match[1]) === 0)
    throw new UsageError(`${flag} ${JSON.stringify(text)} is not a duration`, 'use e.g. 30m, 12h, 7d, 2w');
  return Number(match[1]) * unitMs[match[2] as keyof typeof unitMs];
}

/** Milliseconds → the largest unit that divides them exactly (`7d`, `36h`, `90m`), as parseDuration reads it. */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm'] as const) {
    if (ms >= unitMs[unit] && ms % unitMs[unit] === 0) return `${ms / unitMs[unit]}${unit}`;
  }
  return `${Math.round(ms / 1000)}s`;
}
