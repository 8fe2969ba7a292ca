import type { TrackedQuery, TrackedResult } from './query-tracker.js';

/**
 * The journal lines of `query` and `query_result` events, built as text: byte for byte what
 * `JSON.stringify({ type, timestamp, data })` gives for the same event (same keys, same order, optional
 * keys only when set; session-event-lines.test.ts checks it against JSON.stringify). Building the
 * event objects and walking them in JSON.stringify cost about twice as much, twice per transaction, on
 * the proxy's forwarding path. Numbers here are integers (counts, numbers, milliseconds).
 */
export function queryEventLine(query: TrackedQuery, timestamp: string): string {
  let line = `{"type":"query","timestamp":"${timestamp}","data":{"query_number":${query.queryNumber},"sql":${JSON.stringify(query.sql)}`;
  if (query.statement !== undefined)
    line += `,"statement":${JSON.stringify(query.statement)},"params":${JSON.stringify(query.params ?? [])}`;
  if (query.paramFormats) line += `,"param_formats":${JSON.stringify(query.paramFormats)}`;
  if (query.paramTypes) line += `,"param_types":${JSON.stringify(query.paramTypes)}`;
  if (query.unreplayable) line += `,"unreplayable":${JSON.stringify(query.unreplayable)}`;
  if (query.oversized) line += `,"oversized":${JSON.stringify(query.oversized)}`;
  return `${line}}}`;
}

export function resultEventLine(result: TrackedResult, timestamp: string): string {
  let line =
    `{"type":"query_result","timestamp":"${timestamp}","data":{"query_number":${result.queryNumber}` +
    `,"columns":${JSON.stringify(result.columns)},"rows":${JSON.stringify(result.rows)}` +
    `,"row_count":${result.rowCount},"command_tag":${text(result.commandTag)}` +
    `,"duration_ms":${result.durationMs},"error":${result.error === null ? 'null' : JSON.stringify(result.error)}`;
  if (result.truncated) {
    line += ',"truncated":true';
    if (result.digest !== undefined) line += `,"digest":${JSON.stringify(result.digest)}`;
  }
  if (result.skipped) line += ',"skipped":true';
  if (result.batches) line += `,"batches":${result.batches}`;
  if (result.undecodedColumns) line += `,"undecoded_columns":${JSON.stringify(result.undecodedColumns)}`;
  if (result.copyIn) line += `,"copy_in":${JSON.stringify(result.copyIn)}`;
  return `${line}}}`;
}

function text(value: string | null): string {
  return value === null ? 'null' : JSON.stringify(value);
}
