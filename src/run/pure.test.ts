import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type { RunTrace } from '../generated/trace.js';
import { childEnv } from './child-env.js';
import { toJunit, xml } from './junit.js';
import { OutputCapture } from './output-capture.js';
import { valueAtPath } from './probes/json-path.js';
import { valueMatches } from './probes/sql.js';

describe('OutputCapture', () => {
  it('keeps short output whole', () => {
    const capture = new OutputCapture(16);
    capture.push('hello');
    capture.push(Buffer.from(' world'));
    expect(capture.text()).toBe('hello world');
  });

  it('keeps head and tail of long output with a marker, whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 0, maxLength: 400, unit: 'binary-ascii' }),
        fc.integer({ min: 1, max: 50 }),
        (text, chunk) => {
          const capture = new OutputCapture(64);
          for (let i = 0; i < text.length; i += chunk) capture.push(text.slice(i, i + chunk));
          if (text.length <= 64) expect(capture.text()).toBe(text);
          else {
            expect(capture.text()).toBe(
              `${text.slice(0, 32)}\n…[replay-env: ${text.length - 64} bytes truncated]…\n${text.slice(-32)}`,
            );
          }
        },
      ),
    );
  });
});

describe('valueAtPath', () => {
  const doc = { data: { items: [{ id: 7 }, { id: null }] }, 'a.b': 1 };
  it.each([
    ['data.items.0.id', { found: true, value: 7 }],
    ['data.items.1.id', { found: true, value: null }],
    ['data.items', { found: true, value: doc.data.items }],
    ['', { found: true, value: doc }],
    ['data.items.2.id', { found: false, value: undefined }],
    ['data.nope', { found: false, value: undefined }],
    ['data.items.x', { found: false, value: undefined }],
    ['data.items.0.id.deeper', { found: false, value: undefined }],
  ])('%s', (path, expected) => {
    expect(valueAtPath(doc, path)).toEqual(expected);
  });
});

describe('valueMatches (sql expectValue)', () => {
  it.each([
    ['2', 2, true],
    ['2', '2', true],
    ['2.50', 2.5, true],
    ['', 0, false],
    ['t', true, true],
    ['f', false, true],
    ['t', false, false],
    ['yes', true, false],
    [null, null, true],
    ['x', null, false],
    [null, 'x', false],
    ['{"a": [1, 2]}', { a: [1, 2] }, true],
    ['[1,2]', [2, 1], false],
    ['not json', { a: 1 }, false],
  ] as const)('%s vs %j → %s', (actual, expected, result) => {
    expect(valueMatches(actual, expected)).toBe(result);
  });
});

describe('childEnv', () => {
  it('overwrites the production URL after the parent and the step env', () => {
    const env = childEnv({
      manifest: { postgres: { prodDatabaseUrlEnv: 'P', replayDatabaseUrlEnv: 'R' } } as never,
      databaseUrl: undefined,
      parentEnv: { P: 'postgres://real@prod/db', KEEP: '1' },
      extra: { P: 'postgres://sneaky@prod/db', X: 'y' },
    });
    expect(env).toEqual({
      P: 'postgres://replay-env-blocked@127.0.0.1:1/blocked-by-replay-env',
      KEEP: '1',
      X: 'y',
    });
  });
});

describe('junit', () => {
  it('escapes everything XML cannot hold', () => {
    expect(xml(`<a href="x">'&'</a>\u0000\u0007`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;',
    );
  });

  it('one testcase per step and judge, plus the gate', () => {
    const trace: RunTrace = {
      schemaVersion: 1,
      kind: 'replay-env-run-trace',
      app: 'a<b',
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:02.000Z',
      capsule: null,
      events: [
        {
          kind: 'probe',
          probeKind: 'http',
          name: 'home',
          success: false,
          durationMs: 5,
          at: '2026-01-01T00:00:00.000Z',
          message: 'status 500, expected 200',
        },
        {
          kind: 'probe',
          probeKind: 'sql',
          name: 'ok',
          success: true,
          durationMs: 1,
          at: '2026-01-01T00:00:00.000Z',
        },
        {
          kind: 'probe',
          probeKind: 'sql',
          name: 'later',
          success: false,
          skipped: true,
          durationMs: 0,
          at: '2026-01-01T00:00:00.000Z',
          message: 'not run',
        },
      ],
      judges: [{ id: 'probe_outcomes', verdict: 'fail', reasons: ['probe home failed'] }],
      facts: {},
      gate: 'block',
      gateReasons: ['block: required_probes_failed > 0'],
    };
    const report = toJunit(trace);
    expect(report).toContain('tests="5" failures="3" skipped="1" time="2.000"');
    expect(report).toContain('<testsuite name="replay-env run a&lt;b"');
    expect(report).toContain('<failure message="status 500, expected 200">');
    expect(report).toContain('<testcase classname="probes" name="ok" time="0.001"/>');
    expect(report).toContain('<skipped message="not run"/>');
    expect(report).toContain('<failure message="gate: block">block: required_probes_failed &gt; 0</failure>');
  });
});
