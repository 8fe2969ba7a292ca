import { describe, expect, it } from 'vitest';

import { runTrace, traceTime } from '../../test/setup/run-trace.js';
import type { Event } from '../generated/trace.js';
import { compareWithGolden } from './compare.js';
import { goldenFromTrace } from './golden-file.js';
import { ignoreNothing } from './ignore.js';
import { normaliseTrace } from './normalise.js';

const at = traceTime;
const base = { success: true, durationMs: 12, at };
const trace = runTrace;

const events: Event[] = [
  { ...base, kind: 'materialize', name: 'materialize', rowCounts: { users: 2 }, loaded: { users: 2 } },
  {
    ...base,
    kind: 'command',
    name: 'migrate',
    command: 'x',
    cwd: '/',
    exitCode: 0,
    signal: null,
    timedOut: false,
    stdout: 'ok\n',
    stderr: '',
  },
  {
    ...base,
    kind: 'background',
    name: 'web',
    command: 'x',
    cwd: '/',
    ready: true,
    exitedEarly: false,
    exitCode: 143,
    signal: null,
    stdout: '',
    stderr: '',
  },
  {
    ...base,
    kind: 'probe',
    name: 'api',
    probeKind: 'http',
    status: 200,
    body: '{"a":1}',
    bodyJson: { a: 1 },
    headers: { 'Content-Type': 'application/json', 'x-id': '9' },
  },
  { ...base, kind: 'probe', name: 'page', probeKind: 'http', status: 500, success: false, body: 'oops' },
  {
    ...base,
    kind: 'probe',
    name: 'rows',
    probeKind: 'sql',
    rowCount: 1,
    columns: ['n'],
    rows: [['2']],
    value: '2',
  },
  {
    ...base,
    kind: 'probe',
    name: 'replay',
    probeKind: 'session',
    queriesExecuted: 4,
    matched: 4,
    mismatched: 0,
    errors: 0,
    newErrors: 0,
  },
  {
    ...base,
    kind: 'probe',
    name: 'later',
    probeKind: 'sql',
    success: false,
    skipped: true,
    message: 'materialization failed',
  },
];

describe('normaliseTrace', () => {
  it('keeps per kind what the probe saw, and no timings', () => {
    const evidence = normaliseTrace(trace(events), { headers: ['content-type'], stdout: ['migrate'] });
    expect(evidence).toEqual({
      gate: 'continue',
      materialized: { users: 2 },
      commands: {
        migrate: { kind: 'command', outcome: 'pass', exitCode: 0, stdout: 'ok\n' },
        web: { kind: 'background', outcome: 'pass' },
      },
      probes: {
        api: {
          kind: 'http',
          outcome: 'pass',
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: { a: 1 },
        },
        page: { kind: 'http', outcome: 'fail', status: 500, headers: { 'content-type': null }, body: 'oops' },
        rows: { kind: 'sql', outcome: 'pass', rowCount: 1, columns: ['n'], rows: [['2']] },
        replay: {
          kind: 'session',
          outcome: 'pass',
          queriesExecuted: 4,
          matched: 4,
          mismatched: 0,
          errors: 0,
          newErrors: 0,
        },
        later: { kind: 'sql', outcome: 'skipped' },
      },
      egress: {},
    });
    expect(JSON.stringify(evidence)).not.toMatch(/durationMs|2026-12-01/);
  });

  it('a saved golden compares equal with its own trace, and records the gate before the golden', () => {
    const source = trace(events);
    const { golden, text } = goldenFromTrace(source, { headers: [], stdout: [] }, { savedAt: at });
    expect(text.indexOf('"app"')).toBeLessThan(text.indexOf('"evidence"'));
    const comparison = compareWithGolden(source, { golden, file: 'g.json', ignore: ignoreNothing });
    expect(comparison).toMatchObject({ count: 0, diffs: [], gateBeforeGolden: 'continue' });
    const blocked = trace(events, {
      gate: 'block',
      golden: { file: 'g', count: 1, diffs: [], gateBeforeGolden: 'continue' },
    });
    expect(normaliseTrace(blocked, { headers: [], stdout: [] }).gate).toBe('continue');
    const otherApp = compareWithGolden(
      { ...source, app: 'other' },
      { golden, file: 'g.json', ignore: ignoreNothing },
    );
    expect(otherApp.diffs).toEqual([{ where: 'app', path: 'app', golden: 'teamdesk', actual: 'other' }]);
  });
});
