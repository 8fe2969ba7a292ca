import { UsageError } from '../errors.js';
import type { IgnoreRules } from '../generated/scenarios.js';
import type { GoldenEvidence } from './normalise.js';
import { parsePattern } from './path.js';

export type { IgnoreRules };

/** Ignore rules parsed once: bad paths and regular expressions are reported before anything runs. */
export interface CompiledIgnore {
  paths: string[][];
  columns: Set<string>;
  headers: Set<string>;
  patterns: RegExp[];
}

export const ignoreNothing: CompiledIgnore = {
  paths: [],
  columns: new Set(),
  headers: new Set(),
  patterns: [],
};

/** Compiles a scenario's `ignore:` rules; `where` names the scenario in error messages. */
export function compileIgnore(rules: IgnoreRules | undefined, where: string): CompiledIgnore {
  if (!rules) return ignoreNothing;
  const paths = (rules.paths ?? []).map((text) => {
    const pattern = parsePattern(text);
    if (!pattern) throw new UsageError(`${where}: ignore path ${JSON.stringify(text)} is not a path`);
    return pattern;
  });
  const patterns = (rules.patterns ?? []).map((text) => {
    try {
      return new RegExp(text, 'g');
    } catch (error) {
      throw new UsageError(`${where}: ignore pattern ${JSON.stringify(text)}: ${(error as Error).message}`);
    }
  });
  return {
    paths,
    columns: new Set(rules.columns ?? []),
    headers: new Set((rules.headers ?? []).map((name) => name.toLowerCase())),
    patterns,
  };
}

export const ignoredMarker = '<ignored>';

/**
 * Applies the column, header and regex rules to a copy of the evidence (both sides get the same
 * treatment, so an ignored value compares equal whatever it was). Path rules are applied by the diff.
 */
export function applyIgnore(evidence: GoldenEvidence, ignore: CompiledIgnore): GoldenEvidence {
  const copy = structuredClone(evidence);
  for (const probe of Object.values(copy.probes)) {
    if (ignore.headers.size > 0 && isRecord(probe.headers)) {
      for (const name of Object.keys(probe.headers)) if (ignore.headers.has(name)) delete probe.headers[name];
    }
    if (ignore.columns.size > 0 && Array.isArray(probe.columns) && Array.isArray(probe.rows)) {
      const columns = probe.columns as string[];
      const hidden = columns.flatMap((name, index) => (ignore.columns.has(name) ? [index] : []));
      for (const row of probe.rows as unknown[][]) for (const index of hidden) row[index] = ignoredMarker;
    }
  }
  return ignore.patterns.length > 0 ? (replaceStrings(copy, ignore.patterns) as GoldenEvidence) : copy;
}

function replaceStrings(value: unknown, patterns: RegExp[]): unknown {
  if (typeof value === 'string') {
    return patterns.reduce((text, pattern) => text.replace(pattern, ignoredMarker), value);
  }
  if (Array.isArray(value)) return value.map((item) => replaceStrings(item, patterns));
  if (isRecord(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, replaceStrings(item, patterns)]),
    );
  }
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
