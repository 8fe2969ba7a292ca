import { describe, expect, it } from 'vitest';

import { judgeMaterializationIntegrity } from './materialization-integrity.js';

describe('materialization integrity judge', () => {
  const done = { status: 'done' as const, rowCounts: { docs: 3 }, loaded: { docs: 3 } };

  it('passes a verified load', () => {
    expect(judgeMaterializationIntegrity({ ...done, verified: true }).verdict).toBe('pass');
  });

  it('fails rows whose json/jsonb array shape was not verified, naming the table', () => {
    expect(
      judgeMaterializationIntegrity({
        ...done,
        verified: false,
        valueDifferences: {},
        nestedJsonArrays: { docs: 1 },
      }),
    ).toEqual({
      id: 'materialization_integrity',
      verdict: 'fail',
      reasons: [
        'docs: 1 row holds json/jsonb arrays of more than one dimension, whose shape the capsule cannot record (not verified)',
      ],
    });
  });

  it('fails values the capsule cannot hold exactly, naming the column', () => {
    const result = judgeMaterializationIntegrity({
      ...done,
      verified: false,
      lossy: { docs: { meta: 2, d: 1 } },
    });
    expect(result.verdict).toBe('fail');
    expect(result.reasons).toEqual([
      'docs.meta: 2 rows held a value the capsule cannot write exactly (a JSON null, or an array not indexed from 1): loaded changed, not verified',
      'docs.d: 1 row held a value the capsule cannot write exactly (a JSON null, or an array not indexed from 1): loaded changed, not verified',
    ]);
  });

  it('fails differing values, naming the table', () => {
    const result = judgeMaterializationIntegrity({ ...done, verified: false, valueDifferences: { docs: 2 } });
    expect(result.verdict).toBe('fail');
    expect(result.reasons).toEqual([
      'docs: 2 rows have values in the replay database that differ from the capsule',
    ]);
  });
});
