import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { holds, parseCondition } from './condition.js';
import { factCatalog } from './facts.js';

const catalog = factCatalog({ commands: ['build'], probes: ['home'] });

function parse(text: string) {
  const parsed = parseCondition(text, catalog);
  if ('problem' in parsed) throw new Error(parsed.problem);
  return parsed.condition;
}

describe('parseCondition', () => {
  it.each([
    ['required_probes_failed > 0', { fact: 'required_probes_failed', op: '>', value: 0 }],
    ['graph_related_users=0', { fact: 'graph_related_users', op: '=', value: 0 }],
    ['materialization_failed == true', { fact: 'materialization_failed', op: '=', value: true }],
    ['redaction != "raw"', { fact: 'redaction', op: '!=', value: 'raw' }],
    ['probe.home = fail', { fact: 'probe.home', op: '=', value: 'fail' }],
    ['command.build = skipped', { fact: 'command.build', op: '=', value: 'skipped' }],
    ['graph_size = null', { fact: 'graph_size', op: '=', value: null }],
    ['  session_mismatches >= 2.5  ', { fact: 'session_mismatches', op: '>=', value: 2.5 }],
  ])('%s', (text, expected) => {
    expect(parse(text)).toMatchObject(expected);
  });

  it.each([
    ['nonsense', /expected `<fact> <op> <value>`/],
    ['probes_failed >', /expected `<fact> <op> <value>`/],
    ['probes_failedd > 0', /unknown fact "probes_failedd" \(known facts: .*probes_failed/],
    ['probe.nope = fail', /unknown fact "probe.nope"/],
    ['graph_size > many', /fact "graph_size" is a number; "many" is not/],
    ['materialization_failed = yes', /is true\/false; "yes" is neither/],
    ['materialization_failed > true', /use = or !=/],
    ['capsule_integrity = failed', /is one of pass, warn, fail; "failed" is not/],
    ['redaction < raw', /use = or !=/],
    ['graph_size > null', /cannot compare with null/],
  ])('rejects %s', (text, problem) => {
    const parsed = parseCondition(text, catalog);
    expect('problem' in parsed && parsed.problem).toMatch(problem);
  });
});

describe('holds', () => {
  it('compares numbers with every operator', () => {
    fc.assert(
      fc.property(fc.integer({ min: -50, max: 50 }), fc.integer({ min: -50, max: 50 }), (actual, value) => {
        const facts = { probes_failed: actual };
        expect(holds(parse(`probes_failed = ${value}`), facts)).toBe(actual === value);
        expect(holds(parse(`probes_failed != ${value}`), facts)).toBe(actual !== value);
        expect(holds(parse(`probes_failed > ${value}`), facts)).toBe(actual > value);
        expect(holds(parse(`probes_failed >= ${value}`), facts)).toBe(actual >= value);
        expect(holds(parse(`probes_failed < ${value}`), facts)).toBe(actual < value);
        expect(holds(parse(`probes_failed <= ${value}`), facts)).toBe(actual <= value);
      }),
    );
  });

  it('an unknown (null) fact matches only "= null" and "!= value"', () => {
    const facts = { graph_related_users: null };
    expect(holds(parse('graph_related_users = 0'), facts)).toBe(false);
    expect(holds(parse('graph_related_users > 0'), facts)).toBe(false);
    expect(holds(parse('graph_related_users <= 0'), facts)).toBe(false);
    expect(holds(parse('graph_related_users = null'), facts)).toBe(true);
    expect(holds(parse('graph_related_users != null'), facts)).toBe(false);
    expect(holds(parse('graph_related_users != 0'), facts)).toBe(true);
  });

  it('booleans and strings compare by equality', () => {
    expect(holds(parse('materialization_failed = true'), { materialization_failed: true })).toBe(true);
    expect(holds(parse('materialization_failed = true'), { materialization_failed: false })).toBe(false);
    expect(holds(parse('redaction != raw'), { redaction: 'safe' })).toBe(true);
    expect(holds(parse('probe.home = pass'), { 'probe.home': 'pass' })).toBe(true);
  });
});
