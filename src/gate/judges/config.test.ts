import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { GatePolicyError } from '../errors.js';
import { loadJudgesConfig, parseJudgesConfig } from './config.js';
import { judgeIds } from './types.js';

/** The error a parse throws, so its message and problems can be checked together. */
function problemsOf(text: string): GatePolicyError {
  try {
    parseJudgesConfig(text, 'judges.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(GatePolicyError);
    return error as GatePolicyError;
  }
  throw new Error('expected a GatePolicyError');
}

// docs/run.md "Judges": a missing judges.yaml enables all; unknown ids or options are errors.
describe('judges.yaml', () => {
  it('a missing file enables every judge', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'judges-'));
    try {
      const config = await loadJudgesConfig(join(dir, 'judges.yaml'));
      expect([...config.enabled]).toEqual([...judgeIds]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('enabled: false turns one judge off; credentials options are read', () => {
    const config = parseJudgesConfig(
      'judges:\n  - id: probe_outcomes\n    enabled: false\n  - id: credentials_in_safe_export\n    options: {entropyThreshold: 4, minLength: 30}\n',
      'judges.yaml',
    );
    expect(config.enabled.has('probe_outcomes')).toBe(false);
    expect(config.enabled.has('capsule_integrity')).toBe(true);
    expect(config.credentials).toEqual({ entropyThreshold: 4, minLength: 30 });
  });

  it('an unknown judge id or option is an error naming it (exit 2), every problem listed', () => {
    const error = problemsOf(
      'judges:\n  - id: capsule_integrty\n  - id: probe_outcomes\n    options: {strict: true}\n',
    );
    expect(error.problems).toEqual([
      'judges.yaml: /judges/0/id: unknown judge "capsule_integrty" (known: capsule_integrity, materialization_integrity, credentials_in_safe_export, probe_outcomes)',
      'judges.yaml: /judges/1/options: unknown option "strict"',
    ]);
    expect(error.exitCode).toBe(2);
  });
});
