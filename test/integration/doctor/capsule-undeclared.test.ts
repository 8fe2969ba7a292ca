import { join } from 'node:path';

import { describe, expect } from 'vitest';

import { loadManifest } from '../../../src/manifest/index.js';
import { materialize } from '../../../src/services/materialize.js';
import { repoRoot } from '../../setup/cli.js';
import { dbTest } from '../../setup/database.js';
import { doctor, lines, loadSql, shopManifest, shopSchema, writeCapsule } from './helpers.js';

// docs/doctor.md: doctor says "will this replay work?"; materialize refuses a capsule holding any table the
// manifest does not declare (even an empty one), so doctor must fail it, not warn that it is skipped.
describe('doctor --capsule with tables the manifest does not declare', () => {
  dbTest('fails each of them, as materialize refuses the capsule', async ({ db }) => {
    await loadSql(db, shopSchema);
    const customer = { shop_id: 's1', customer_id: 'c1', name: 'Ada' };
    const capsule = await writeCapsule({
      customers: [customer],
      refunds: [{ id: 1 }, { id: 2 }],
      ghosts: [],
    });

    const result = await doctor(shopManifest, db, { capsule });
    expect(lines(result, 'fail')).toEqual([
      'capsule table refunds: 2 row(s) of a table the manifest does not declare: materialize refuses the capsule',
      'capsule table ghosts: 0 row(s) of a table the manifest does not declare: materialize refuses the capsule',
    ]);
    expect(result.ok).toBe(false);

    const manifest = await loadManifest(join(repoRoot, shopManifest));
    await expect(materialize({ manifest, capsulePath: capsule, databaseUrl: db.url })).rejects.toThrow(
      /capsule table "(refunds|ghosts)" is not declared in the manifest/,
    );
  });
});
