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

  it('a statement Bind/Executed without Describe takes the columns of an earlier portal Describe, in its own Bind formats', () => {
    const results: TrackedResult[] = [];
    const tracker = new QueryTracker({ onQuery: () => {}, onResult: (result) => results.push(result) });
    const raw = Buffer.alloc(0);
    const int4 = (value: number) => {
      const bytes = Buffer.alloc(4);
      bytes.writeInt32BE(value);
      return bytes;
    };
    const run = (formats: number[], value: Buffer, describe: boolean) => {
      tracker.frontend({
        type: 'bind',
        portal: '',
        statement: 'S_1',
        paramFormats: [],
        params: [],
        resultFormats: formats,
        raw,
      });
      if (describe) tracker.frontend({ type: 'describe', target: 'P', name: '', raw });
      tracker.frontend({ type: 'execute', portal: '', maxRows: 0, raw });
      tracker.frontend({ type: 'sync', raw });
      tracker.backend(backend('bindComplete'));
      if (describe)
        tracker.backend(
          backend('rowDescription', { fields: [{ name: 'n', typeOid: 23, format: formats[0] }] }),
        );
      tracker.backend(backend('dataRow', { values: [value] }));
      tracker.backend(backend('commandComplete', { text: 'SELECT 1' }));
      tracker.backend(backend('readyForQuery', { status: 'I' }));
    };
    tracker.frontend({ type: 'parse', statement: 'S_1', sql: 'select 7 as n', paramTypes: [], raw });
    tracker.backend(backend('parseComplete'));
    run([1], int4(7), true); // pgJDBC's 5th execution: Describe of the portal
    run([1], int4(7), false); // later ones: Bind/Execute only, binary
    run([0], Buffer.from('7'), false); // a text Bind of the same statement
    expect(results.map((result) => [result.columns, result.rows])).toEqual([
      [['n'], [['7']]],
      [['n'], [['7']]],
      [['n'], [['7']]],
    ]);
  });
});
