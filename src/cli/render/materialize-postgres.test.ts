import { describe, expect, it } from 'vitest';

import type { MaterializeResult } from '../../services/materialize.js';
import { renderMaterialize } from './materialize-postgres.js';

describe('materialize rendering', () => {
  const result = {
    app: 'docs',
    capsule: 'c.json',
    database: '127.0.0.1:5432/replay',
    strategy: 'copy',
    subject: { tenant: 'x' },
    rowCounts: { docs: 3 },
    deleted: { docs: 0 },
    loaded: { docs: 3 },
    rewritten: {},
    triggers: { disabled: [], firing: [] },
    verified: false,
    valueDifferences: { docs: 2 },
    nestedJsonArrays: { docs: 1 },
    integrity: 'verified',
    directCopy: ['docs'],
    durationMs: 10,
    phases: { stage: 1, check: 1, delete: 1, upsert: 0, indexes: 0, foreignKeys: 0, verify: 1, commit: 1 },
  } as unknown as MaterializeResult;

  it('says why a load is not verified: differing values and array shapes it cannot tell', () => {
    expect(renderMaterialize(result, false)).toContain(
      'verified: no (capsule integrity: verified; values differ from the capsule: docs 2 rows; array shapes not verified (json/jsonb arrays of more than one dimension, which the capsule writes like arrays of JSON arrays): docs 1 row)',
    );
  });

  it('names the columns whose values the capsule could not hold exactly', () => {
    const text = renderMaterialize(
      { ...result, valueDifferences: {}, nestedJsonArrays: {}, lossy: { docs: { meta: 2 } } },
      false,
    );
    expect(text).toContain(
      'verified: no (capsule integrity: verified; not verified, values the capsule cannot hold exactly (a JSON null in json/jsonb, written like SQL NULL; an array not indexed from 1, written from 1): docs.meta 2 rows)',
    );
  });
});
