import { describe, expect, it } from 'vitest';

import type { ExportResult } from '../../services/export.js';
import { renderExport } from './export-postgres.js';

describe('export rendering', () => {
  const result = {
    capsule: '/tmp/c.json',
    app: 'docs',
    subject: { owner: 'me' },
    redaction: 'safe',
    sinceDays: 30,
    exportedAt: '2026-12-03T00:00:00Z',
    sinceAt: '2026-11-03T00:00:00Z',
    graph: { size: 1, reasons: { subject: 1 } },
    rowCounts: { docs: 3 },
    totalRows: 3,
    emptyWindowed: [],
    bytes: 10,
    sha256: '0'.repeat(64),
    durationMs: 5,
  } as ExportResult;

  it('warns of JSON nulls the capsule cannot tell from SQL NULL, by column; silent without', () => {
    expect(renderExport(result)).not.toContain('JSON null');
    expect(renderExport({ ...result, jsonNulls: { docs: { d: 1, meta: 2 } } })).toContain(
      'warning: JSON null (not SQL NULL) in docs.d 1 row, docs.meta 2 rows: the capsule writes both as null and a load reads SQL NULL, so materialize will not say verified',
    );
  });
});
