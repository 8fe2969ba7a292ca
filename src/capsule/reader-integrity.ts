import { type CapsuleIntegrity, integrityProblems } from './header.js';
import { lossyOfTrailer } from './lossy-values.js';
import type { CapsuleSummary } from './reader-types.js';

/**
 * Compares what was read (rows per table, and per-table SHA-256 when the row texts are the exporter's own)
 * with the capsule's `integrity` trailer (`sha256-rows-v1`). Without a trailer only structure and counts
 * could be checked: `counts-only`.
 */
export function checkIntegrity(options: {
  rowCounts: Record<string, number>;
  hashes?: Record<string, string>;
  integrity: unknown;
}): CapsuleSummary['integrity'] {
  if (options.integrity === undefined) return { status: 'counts-only', problems: [] };
  const schemaProblems = integrityProblems(options.integrity);
  if (schemaProblems.length > 0) return { status: 'failed', problems: schemaProblems };
  const expected = (options.integrity as CapsuleIntegrity).tables;
  const problems: string[] = [];
  for (const [table, rows] of Object.entries(options.rowCounts)) {
    const entry = expected[table];
    if (!entry) {
      problems.push(`table "${table}" is not in the integrity trailer`);
      continue;
    }
    if (entry.rows !== rows) {
      problems.push(`table "${table}" has ${rows} rows, the integrity trailer says ${entry.rows}`);
    } else if (options.hashes && options.hashes[table] !== entry.sha256) {
      problems.push(`table "${table}": sha256 of its rows does not match the integrity trailer`);
    }
  }
  for (const table of Object.keys(expected)) {
    if (!Object.hasOwn(options.rowCounts, table)) {
      problems.push(`table "${table}" is in the integrity trailer but not in the capsule`);
    }
  }
  if (problems.length > 0) return { status: 'failed', problems };
  const lossy = lossyOfTrailer(expected);
  return { status: options.hashes ? 'verified' : 'counts-only', problems: [], ...(lossy ? { lossy } : {}) };
}
