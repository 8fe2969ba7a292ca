import { type CapsuleHeader, type CapsuleSummary, openCapsule } from '../capsule/index.js';
import { CapsuleError } from '../errors.js';

export interface InspectResult {
  path: string;
  app: string;
  adapter: string;
  subject: Record<string, string>;
  redaction: string | null;
  exportedAt: string | null;
  window: CapsuleHeader['window'] | null;
  /** How the file was read: replay-env's line layout or the generic JSON parser. */
  layout: CapsuleHeader['layout'];
  compressed: boolean;
  graph: {
    size: number;
    /** Entries per reason (an entry may have several reasons). */
    reasons: Record<string, number>;
    entries: CapsuleHeader['graph'];
  };
  rowCounts: Record<string, number>;
  totalRows: number;
  /** `lossy`: values the capsule cannot hold exactly, per table and column (docs/capsule-format.md). */
  integrity: CapsuleSummary['integrity'];
  file: { bytes: number; sha256: string };
}

/**
 * Summarises a capsule (SPEC §2 `inspect`): header, graph with reasons, rows per table, integrity and the
 * file's size and SHA-256. Reads the whole file once, streaming. A count or hash mismatch is reported in
 * `integrity` (status `failed`); a file that is not a readable capsule throws CapsuleError/FileError.
 */
export async function inspectCapsule(path: string): Promise<InspectResult> {
  const reader = await openCapsule(path);
  try {
    for await (const _row of reader.rows()) {
      // rows are only counted and hashed by the reader
    }
  } catch (error) {
    if (!(error instanceof CapsuleError && error.code === 'capsule_integrity_failed')) throw error;
  }
  const summary = reader.summary();
  const { header } = reader;
  const reasons: Record<string, number> = {};
  for (const entry of header.graph) {
    for (const reason of entry.reasons) reasons[reason] = (reasons[reason] ?? 0) + 1;
  }
  return {
    path,
    app: header.app,
    adapter: header.adapter,
    subject: header.subject,
    redaction: header.redaction ?? null,
    exportedAt: header.exportedAt ?? null,
    window: header.window ?? null,
    layout: header.layout,
    compressed: summary.file.compressed,
    graph: { size: header.graph.length, reasons, entries: header.graph },
    rowCounts: summary.rowCounts,
    totalRows: Object.values(summary.rowCounts).reduce((sum, rows) => sum + rows, 0),
    integrity: summary.integrity,
    // rows() hashes the file (only batches({ fileHash: false }) does not).
    file: { bytes: summary.file.bytes, sha256: summary.file.sha256 ?? '' },
  };
}
