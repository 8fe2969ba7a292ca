import { describe, expect, it } from 'vitest';

import type { RunTrace } from '../generated/trace.js';
import { toJunit, xml } from './junit.js';

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
