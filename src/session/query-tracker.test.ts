import { describe, expect, it } from 'vitest';

import type { BackendEvent } from './backend-decoder.js';
import { QueryTracker, type TrackedResult } from './query-tracker.js';

const backend = (name: string, fields: Record<string, unknown> = {}) =>
  ({ name, ...fields }) as unknown as BackendEvent;

describe('QueryTracker', () => {
  it('records a query answered with an error even when the session ends before ReadyForQuery', () => {
    const results: TrackedResult[] = [];
    const tracker = new QueryTracker({ onQuery: () => {}, onResult: (result) => results.push(result) });
    tracker.frontend({ type: 'query', sql: 'select pg_sleep(30)', raw: Buffer.alloc(0) });
    tracker.backend(backend('error', { code: '57014', message: 'canceling statement', severity: 'ERROR' }));
    expect(results).toEqual([]); // normally recorded at ReadyForQuery…
    tracker.flush(); // …but the client hung up first
    expect(results.map((result) => result.error?.code)).toEqual(['57014']);
    tracker.flush();
    expect(results).toHaveLength(1);
  });

  it('does not invent a result for a query with no answer yet', () => {
    const results: TrackedResult[] = [];
    const tracker = new QueryTracker({ onQuery: () => {}, onResult: (result) => results.push(result) });
    tracker.frontend({ type: 'query', sql: 'select 1', raw: Buffer.alloc(0) });
    tracker.flush();
    expect(results).toEqual([]);
  });
});
