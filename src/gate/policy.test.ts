import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { evaluateGate } from './evaluate.js';
import { factCatalog, type Facts } from './facts.js';
import { loadGatePolicy, parseGatePolicy } from './policy.js';

const catalog = factCatalog({ commands: [], probes: ['home'] });
const policy = (text: string) =>
  parseGatePolicy(text, { file: '/x/gate.yaml', shown: 'loops/x/gate.yaml', catalog });

const cleanFacts: Facts = {
  materialization_failed: false,
  capsule_integrity: 'pass',
  credentials_in_safe_export: 'pass',
  required_probes_failed: 0,
  graph_related_users: 3,
  redaction: 'safe',
  allowed_failures: 0,
  'probe.home': 'pass',
};

const sample = `
block_if:
  - materialization_failed = true
  - required_probes_failed > 0
human_review_if:
  - redaction = raw
warn_if:
  - graph_related_users = 0
  - allowed_failures > 0
ship_to_staging_if:
  - required_probes_failed = 0
  - probe.home = pass
`;

describe('gate policy', () => {
  it('the shipped policy loads against the teamdesk facts', async () => {
    const file = new URL('../../loops/user-history-replay/gate.yaml', import.meta.url).pathname;
    const loaded = await loadGatePolicy(file, catalog);
    expect(loaded.lists.block_if.map((condition) => condition.fact)).toContain('materialization_failed');
  });

  it.each([
    ['clean', {}, 'continue', ['ship_to_staging: true']],
    ['warn', { graph_related_users: 0 }, 'warn', ['warn: graph_related_users = 0', 'ship_to_staging: true']],
    [
      'human review beats warn',
      { redaction: 'raw', allowed_failures: 2 },
      'human_review',
      [
        'human_review: redaction = raw',
        'warn: allowed_failures > 0 (allowed_failures = 2)',
        'ship_to_staging: true',
      ],
    ],
    [
      'block beats everything',
      { required_probes_failed: 1, redaction: 'raw', 'probe.home': 'fail' },
      'block',
      ['block: required_probes_failed > 0 (required_probes_failed = 1)', 'human_review: redaction = raw'],
    ],
  ])('%s', (_name, changes, gate, reasons) => {
    const result = evaluateGate(policy(sample), { ...cleanFacts, ...changes } as Facts);
    expect(result.gate).toBe(gate);
    expect(result.gateReasons).toEqual(reasons);
    expect(result.shipToStaging).toBe(reasons.includes('ship_to_staging: true'));
  });

  it('forced block reasons come first and block even a clean run', () => {
    const result = evaluateGate(policy(sample), cleanFacts, ['interrupted by SIGINT']);
    expect(result.gate).toBe('block');
    expect(result.gateReasons[0]).toBe('block: interrupted by SIGINT');
  });

  it('an empty policy continues and never ships', () => {
    expect(evaluateGate(policy(''), cleanFacts)).toEqual({
      gate: 'continue',
      gateReasons: [],
      shipToStaging: false,
    });
  });

  it('precedence holds for any combination of fired levels', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.boolean(), fc.boolean(), (block, review, warn) => {
        const facts = {
          ...cleanFacts,
          materialization_failed: block,
          redaction: review ? 'raw' : 'safe',
          graph_related_users: warn ? 0 : 1,
        };
        const { gate } = evaluateGate(policy(sample), facts);
        expect(gate).toBe(block ? 'block' : review ? 'human_review' : warn ? 'warn' : 'continue');
      }),
    );
  });

  it.each([
    [
      'unknown fact',
      'block_if:\n  - probes_faild > 0\n',
      'loops/x/gate.yaml: block_if[0] "probes_faild > 0": unknown fact "probes_faild"',
    ],
    [
      'bad value',
      'warn_if:\n  - graph_size > lots\n',
      'loops/x/gate.yaml: warn_if[0] "graph_size > lots": fact "graph_size" is a number',
    ],
    [
      'unknown list',
      'block_iff:\n  - graph_size > 1\n',
      'loops/x/gate.yaml: /: unknown property "block_iff"',
    ],
    [
      'not a condition',
      'block_if:\n  - graph_size\n',
      'loops/x/gate.yaml: /block_if/0: "graph_size" is invalid',
    ],
    ['bad yaml', 'block_if: [\n', 'loops/x/gate.yaml: not valid YAML'],
  ])('%s is a clear error', (_name, text, message) => {
    expect(() => policy(text)).toThrow(message);
  });

  it('reports every problem at once', () => {
    try {
      policy('block_if:\n  - a > 1\nwarn_if:\n  - b = 2\n');
      expect.unreachable();
    } catch (error) {
      expect((error as { problems: string[] }).problems).toHaveLength(2);
      expect((error as Error).message).toContain('(and 1 more)');
    }
  });

  it('a missing policy file is a clear error', async () => {
    await expect(loadGatePolicy('/nonexistent/gate.yaml', catalog)).rejects.toThrow(
      'gate.yaml: file not found',
    );
  });
});

describe("the original tool's fact names", () => {
  it('are known, so a policy written for the original keeps loading', () => {
    const original = policy(`
block_if:
  - capsule_subject_missing = true
  - safe_export_contains_credentials = true
human_review_if:
  - raw_export_requested = true
`);
    const verdict = evaluateGate(original, {
      ...cleanFacts,
      capsule_subject_missing: false,
      safe_export_contains_credentials: false,
      raw_export_requested: true,
    });
    expect(verdict.gate).toBe('human_review');
  });
});
