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

  it('warns of values the capsule cannot hold exactly, by column; silent without', () => {
    expect(renderExport(result)).not.toContain('warning');
    expect(renderExport({ ...result, lossy: { docs: { d: 1, meta: 2 } } })).toContain(
      'warning: values the capsule cannot hold exactly (a JSON null in json/jsonb, written like SQL NULL; an array not indexed from 1, written from 1) in docs.d 1 row, docs.meta 2 rows: materialize will load them changed and not say verified',
    );
  });

  it('says which tables were read in pieces, and into how many', () => {
    expect(renderExport(result)).toContain('\n  docs: 3\n');
    expect(renderExport({ ...result, pieces: { docs: 3 } })).toContain('\n  docs: 3 (read in 3 pieces)\n');
  });
});
