import type { CapsuleHeader } from './header.js';

/** One capsule row: its table and its JSON text (compact, one line, as written by the exporter). */
export interface CapsuleRow {
  table: string;
  text: string;
}

/** Consecutive rows of one table (a table's rows may come in many batches, in file order). */
export interface CapsuleBatch {
  table: string;
  rows: string[];
  /**
   * The rows' UTF-8 bytes as read, each row followed by `\n`, when asked for (`batches({ bytes: true })`;
   * line-layout capsules only, and not for a row longer than a read chunk): the direct load converts
   * these (json-to-copy-bytes.ts) and value verification hashes them, instead of the rows' text. `rows`
   * are then decoded only when read.
   */
  bytes?: Buffer;
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
  integrity: {
    status: IntegrityStatus;
    problems: string[];
    /**
     * The trailer's counts of values it cannot hold exactly (table → column → rows; JSON null, array bounds,
     * graph/lossy-values-sql.ts): those values load as SQL NULL. Absent when none.
     */
    lossy?: Record<string, Record<string, number>>;
  };
  /**
   * The file as stored (compressed bytes for a gzip capsule); `sha256` unless the iteration was asked
   * not to hash the file (`batches({ fileHash: false })`).
   */
  file: { bytes: number; sha256?: string; compressed: boolean };
}

/**
 * A capsule opened for streaming. `header` is validated on open; `rows()` streams the rows in file
 * order (each call reads the file again) and, after the last row, checks counts and hashes and throws
 * a CapsuleError when they do not match or the file is truncated. `batches()` is the same iteration,
 * a batch of rows at a time (the direct load's hot loop: no promise per row). `summary()` describes the
 * last complete iteration.
 */
export interface CapsuleReader {
  path: string;
  header: CapsuleHeader;
  rows(): AsyncIterable<CapsuleRow>;
  /** `fileHash: false`: the summary's `file` has no `sha256` (a pass over every byte saved). */
  batches(options?: { bytes?: boolean; fileHash?: boolean }): AsyncIterable<CapsuleBatch>;
  summary(): CapsuleSummary;
}
