import type { CapsuleHeader } from './header.js';

/** One capsule row: its table and its JSON text (compact, one line, as written by the exporter). */
export interface CapsuleRow {
  table: string;
  text: string;
}

export type IntegrityStatus = 'verified' | 'counts-only' | 'failed';

export interface CapsuleSummary {
  /** Rows per table, in file order of the tables. */
  rowCounts: Record<string, number>;
  /**
   * `verified`: counts and per-table SHA-256 match the trailer (line layout); `counts-only`: structure
   * and counts checked, no hashes to compare (the original tool's capsules, reformatted files);
   * `failed`: a count or hash does not match (`problems` says which).
   */
  integrity: { status: IntegrityStatus; problems: string[] };
  /** The file as stored (compressed bytes for a gzip capsule). */
  file: { bytes: number; sha256: string; compressed: boolean };
}

/**
 * A capsule opened for streaming. `header` is validated on open; `rows()` streams the rows in file
 * order (each call reads the file again) and, after the last row, checks counts and hashes and throws
 * a CapsuleError when they do not match or the file is truncated. `summary()` describes the last
 * complete iteration.
 */
export interface CapsuleReader {
  path: string;
  header: CapsuleHeader;
  rows(): AsyncIterable<CapsuleRow>;
  summary(): CapsuleSummary;
}
