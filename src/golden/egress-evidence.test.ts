import { describe, expect, it } from 'vitest';

import { runTrace, traceTime } from '../../test/setup/run-trace.js';
import type { EgressEvent, Event, RunTrace } from '../generated/trace.js';
import { compareWithGolden } from './compare.js';
import { goldenFromTrace } from './golden-file.js';
import { compileIgnore, ignoreNothing } from './ignore.js';

const at = traceTime;
const notify: Event = {
  kind: 'command',
  name: 'notify',
  success: true,
  durationMs: 5,
  at,
  command: 'x',
  cwd: '/',
  exitCode: 0,
  signal: null,
  timedOut: false,
  stdout: '',
  stderr: '',
};
const egress = (
  host: string,
  verdict: EgressEvent['verdict'],
  extra: Partial<EgressEvent> = {},
): EgressEvent => ({
  kind: 'egress',
  at,
  step: 'command',
  name: 'notify',
  method: 'POST',
  host,
  port: 443,
  path: '/v1/send',
  verdict,
  ...extra,
});
const trace = (events: Event[]): RunTrace => runTrace(events);
const options = { headers: [], stdout: [] };
const golden = goldenFromTrace(
  trace([notify, egress('mail.provider.test', 'stubbed'), egress('payments.provider.test', 'denied')]),
  options,
  { savedAt: at },
).golden;
const compare = (events: Event[], ignore = ignoreNothing) =>
  compareWithGolden(trace([notify, ...events]), { golden, file: 'g.json', ignore });

describe('golden traces compare the outside requests', () => {
  it('saves per step how often each verdict, method, host, port and path happened', () => {
    expect(golden.evidence.egress).toEqual({
      'command notify': {
        'denied POST payments.provider.test:443/v1/send': 1,
        'stubbed POST mail.provider.test:443/v1/send': 1,
      },
    });
  });

  it('is order-insensitive, and the timestamps do not count', () => {
    const later = { at: '2026-12-02T00:00:00.000Z' };
    const result = compare([
      egress('payments.provider.test', 'denied', later),
      egress('mail.provider.test', 'stubbed'),
    ]);
    expect(result).toMatchObject({ count: 0, diffs: [] });
  });

  it('differs when a replay calls a new provider, calls one more often, or gets another verdict', () => {
    const result = compare([
      egress('mail.provider.test', 'stubbed'),
      egress('mail.provider.test', 'stubbed'),
      egress('payments.provider.test', 'allowed'),
      egress('sms.provider.test', 'denied', { method: 'GET', port: 80, path: '/send' }),
    ]);
    expect(result.diffs).toEqual([
      {
        where: 'egress of command notify',
        path: 'egress["command notify"]["allowed POST payments.provider.test:443/v1/send"]',
        actual: 1,
      },
      {
        where: 'egress of command notify',
        path: 'egress["command notify"]["denied GET sms.provider.test:80/send"]',
        actual: 1,
      },
      {
        where: 'egress of command notify',
        path: 'egress["command notify"]["denied POST payments.provider.test:443/v1/send"]',
        golden: 1,
      },
      {
        where: 'egress of command notify',
        path: 'egress["command notify"]["stubbed POST mail.provider.test:443/v1/send"]',
        golden: 1,
        actual: 2,
      },
    ]);
    expect(result.count).toBe(4);
  });

  it('a step that stops calling out differs; an ignore path can leave a step out', () => {
    expect(compare([]).diffs).toEqual([
      { where: 'egress of command notify', path: 'egress["command notify"]', golden: expect.any(Object) },
    ]);
    const ignore = compileIgnore({ paths: ['egress.*'] }, 'scenario s');
    expect(compare([], ignore)).toMatchObject({ count: 0 });
  });

  it('a golden saved before egress was compared (no egress key) compares without it', () => {
    const { egress: _dropped, ...older } = golden.evidence;
    const result = compareWithGolden(trace([notify, egress('new.provider.test', 'allowed')]), {
      golden: { ...golden, evidence: older },
      file: 'old.json',
      ignore: ignoreNothing,
    });
    expect(result).toMatchObject({ count: 0, diffs: [] });
  });
});
