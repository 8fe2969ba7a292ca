import { isDeepStrictEqual } from 'node:util';

import type { GoldenDiff } from '../generated/trace.js';
import type { GoldenEvidence } from './normalise.js';
import { type EvidencePath, formatPath, ignoredBy } from './path.js';

export type { GoldenDiff };

/** Differences kept per comparison; a reshaped answer can differ everywhere, and a list of 200 says enough. */
export const maxDiffs = 200;

/**
 * The differences between a golden's evidence and a run's (both already through `applyIgnore`), each
 * with where it is, its path, the golden value and the new value (absent on the side that lacks it).
 * Objects are compared key by key, arrays index by index; paths under an ignore pattern are skipped.
 */
export function diffEvidence(
  golden: GoldenEvidence,
  actual: GoldenEvidence,
  ignorePaths: string[][] = [],
): { diffs: GoldenDiff[]; total: number } {
  const diffs: GoldenDiff[] = [];
  let total = 0;
  const add = (path: EvidencePath, hasGolden: boolean, g: unknown, hasActual: boolean, a: unknown): void => {
    total += 1;
    if (diffs.length >= maxDiffs) return;
    diffs.push({
      where: whereOf(path),
      path: formatPath(path),
      ...(hasGolden ? { golden: g } : {}),
      ...(hasActual ? { actual: a } : {}),
    });
  };
  const walk = (path: EvidencePath, g: unknown, a: unknown): void => {
    if (ignoredBy(path, ignorePaths) || isDeepStrictEqual(g, a)) return;
    if (isRecord(g) && isRecord(a)) {
      for (const key of [...new Set([...Object.keys(g), ...Object.keys(a)])].sort()) {
        const inG = key in g;
        const inA = key in a;
        if (inG && inA) walk([...path, key], g[key], a[key]);
        else if (!ignoredBy([...path, key], ignorePaths)) add([...path, key], inG, g[key], inA, a[key]);
      }
      return;
    }
    if (Array.isArray(g) && Array.isArray(a)) {
      for (let index = 0; index < Math.max(g.length, a.length); index += 1) {
        const inG = index < g.length;
        const inA = index < a.length;
        if (inG && inA) walk([...path, index], g[index], a[index]);
        else if (!ignoredBy([...path, index], ignorePaths))
          add([...path, index], inG, g[index], inA, a[index]);
      }
      return;
    }
    add(path, true, g, true, a);
  };
  walk([], golden, actual);
  return { diffs, total };
}

/** "probe ticket-api", "command migrate", "egress of command notify", "table users", "gate". */
function whereOf(path: EvidencePath): string {
  const [section, name] = path;
  if (section === 'probes' && name !== undefined) return `probe ${name}`;
  if (section === 'commands' && name !== undefined) return `command ${name}`;
  if (section === 'egress' && name !== undefined) return `egress of ${name}`;
  if (section === 'materialized') return name === undefined ? 'materialization' : `table ${name}`;
  return String(section ?? 'evidence');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
