import { describe, expect, it } from 'vitest';

import type { TrackedQuery, TrackedResult } from './query-tracker.js';
import { queryEventLine, resultEventLine } from './session-event-lines.js';

// The event objects as the proxy built them before the lines were written as text (the reference).
function queryData(query: TrackedQuery): Record<string, unknown> {
  const data: Record<string, unknown> = { query_number: query.queryNumber, sql: query.sql };
  if (query.statement !== undefined) {
    data.statement = query.statement;
    data.params = query.params ?? [];
  }
  if (query.paramFormats) data.param_formats = query.paramFormats;
  if (query.paramTypes) data.param_types = query.paramTypes;
  if (query.unreplayable) data.unreplayable = query.unreplayable;
  if (query.oversized) data.oversized = query.oversized;
  return data;
}

function resultData(result: TrackedResult): Record<string, unknown> {
  const data: Record<string, unknown> = {
    query_number: result.queryNumber,
    columns: result.columns,
    rows: result.rows,
    row_count: result.rowCount,
    command_tag: result.commandTag,
    duration_ms: result.durationMs,
    error: result.error,
  };
  if (result.truncated) {
    data.truncated = true;
    data.digest = result.digest;
  }
  if (result.skipped) data.skipped = true;
  if (result.batches) data.batches = result.batches;
  if (result.undecodedColumns) data.undecoded_columns = result.undecodedColumns;
  if (result.copyIn) data.copy_in = result.copyIn;
  return data;
}

const timestamp = '2026-12-01T20:45:01.123Z';
const awkward = 'line\nbreak "quoted" \\ back\tslash \u0000 nul \u2028 sep é ü 😀 \ud800 lone';

const queries: TrackedQuery[] = [
  { queryNumber: 1, sql: 'SELECT abalance FROM pgbench_accounts WHERE aid = 1;', startedAt: 0 },
  { queryNumber: 2, sql: awkward, startedAt: 0 },
  { queryNumber: 3, sql: 'select $1', statement: '', params: ['x', null, awkward], startedAt: 0 },
  { queryNumber: 4, sql: 'select $1', statement: 'S_1', startedAt: 0 },
  {
    queryNumber: 5,
    sql: 'select $1::int',
    statement: 'p',
    params: ['\\x00000001'],
    paramFormats: [1],
    paramTypes: [23],
    startedAt: 0,
  },
  {
    queryNumber: 6,
    sql: '/* fastpath */',
    unreplayable: 'fastpath function call',
    oversized: { bytes: 9_000_000, digest: 'sha256:ab' },
    startedAt: 0,
  },
];

const results: TrackedResult[] = [
  {
    queryNumber: 1,
    columns: ['abalance'],
    rows: [['0']],
    rowCount: 1,
    commandTag: 'SELECT 1',
    error: null,
    durationMs: 0,
  },
  {
    queryNumber: 2,
    columns: [awkward, 'b'],
    rows: [
      [awkward, null],
      ['', '1.5e+300'],
    ],
    rowCount: 2000,
    commandTag: 'SELECT 2000',
    error: null,
    durationMs: 12,
    truncated: true,
    digest: 'sha256:00ff',
    batches: 3,
    undecodedColumns: ['b'],
  },
  {
    queryNumber: 3,
    columns: [],
    rows: [],
    rowCount: 0,
    commandTag: null,
    error: { code: '22P02', message: awkward, severity: 'ERROR' },
    durationMs: 1,
  },
  {
    queryNumber: 4,
    columns: [],
    rows: [],
    rowCount: 0,
    commandTag: null,
    error: null,
    durationMs: 0,
    skipped: true,
  },
  {
    queryNumber: 5,
    columns: [],
    rows: [],
    rowCount: 3,
    commandTag: 'COPY 3',
    error: null,
    durationMs: 4,
    copyIn: { file: 'x.json.copy', offset: 0, bytes: 10, digest: 'sha256:01' },
  },
];

describe('session event lines', () => {
  it.each(queries.map((query) => [query.queryNumber, query] as const))(
    'query %i is the bytes JSON.stringify gives for the event',
    (_, query) => {
      expect(queryEventLine(query, timestamp)).toBe(
        JSON.stringify({ type: 'query', timestamp, data: queryData(query) }),
      );
    },
  );

  it.each(results.map((result) => [result.queryNumber, result] as const))(
    'result %i is the bytes JSON.stringify gives for the event',
    (_, result) => {
      expect(resultEventLine(result, timestamp)).toBe(
        JSON.stringify({ type: 'query_result', timestamp, data: resultData(result) }),
      );
    },
  );
});
