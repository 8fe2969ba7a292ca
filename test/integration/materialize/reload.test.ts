import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect } from 'vitest';

import { exportCapsule } from '../../../src/services/export.js';
import { materialize } from '../../../src/services/materialize.js';
import { dumpTables } from '../../setup/capsules.js';
import { repoRoot } from '../../setup/cli.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';
import { loadTeamdesk } from '../export/helpers.js';

// Issue #14 item 7: reloading the same capsule, as itself or rewritten to the local subject, in any
// order, converges: after the k-th load of a form the replay database is exactly what the first load of
// that form left (full dump of every table).
const tables = ['tenants', 'users', 'tickets', 'comments', 'reactions', 'audit_events'];

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reload-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * Ada's capsule exported from a teamdesk source (`sinceDays`), a teamdesk replay database (seeded or
 * empty), and a load of the capsule into it as itself or as the local subject, returning whether it
 * verified and the full dump after it.
 */
async function reloadFixture(
  db: TestDatabase,
  options: { sinceDays: number; seeded: boolean; loadStrategy: 'copy' | 'jsonb' },
): Promise<(local: boolean) => Promise<{ verified: boolean; dump: Awaited<ReturnType<typeof dumpTables>> }>> {
  const manifest = await loadTeamdesk(db);
  const capsulePath = join(dir, 'ada.json');
  await exportCapsule({
    manifest,
    subject: { tenant_id: 'acme', user_id: 'ada' },
    databaseUrl: db.url,
    out: capsulePath,
    sinceDays: options.sinceDays,
    redaction: 'safe',
  });
  const target = await db.sibling();
  await target.query(await readFile(join(repoRoot, 'config/apps/teamdesk/schema.sql'), 'utf8'));
  if (options.seeded)
    await target.query(await readFile(join(repoRoot, 'config/apps/teamdesk/seed.sql'), 'utf8'));
  return async (local) => {
    const result = await materialize({
      manifest,
      capsulePath,
      databaseUrl: target.url,
      loadStrategy: options.loadStrategy,
      useLocalSubject: local,
    });
    return { verified: result.verified, dump: await dumpTables(target, tables) };
  };
}

describe.each([
  ['copy', 'a seeded', true],
  ['jsonb', 'a seeded', true],
  ['copy', 'an empty', false],
  ['jsonb', 'an empty', false],
] as const)('reload converges (%s, %s replay database)', (loadStrategy, _, seeded) => {
  dbTest('self → local → self → local → self → local → self', async ({ db }) => {
    const loadOnce = await reloadFixture(db, { sinceDays: 3650, seeded, loadStrategy });
    const load = async (local: boolean): Promise<Awaited<ReturnType<typeof dumpTables>>> => {
      const { verified, dump } = await loadOnce(local);
      expect(verified).toBe(true);
      return dump;
    };
    const first = await load(false);
    const local = await load(true);
    expect(local).not.toEqual(first);
    const self = await load(false);
    // Every table but tenants (no deletePredicate: a tenant row is never deleted, only replaced by key)
    // is back to what the first load left; tenants keeps the local subject's tenant row.
    expect({ ...self, tenants: undefined }).toEqual({ ...first, tenants: undefined });
    const localTenant = local.tenants!.filter(
      (row) => (row as { tenant_id: string }).tenant_id === 'dev-tenant',
    );
    expect(localTenant).toHaveLength(1);
    expect(self.tenants).toHaveLength(first.tenants!.length + 1);
    expect(self.tenants).toEqual(expect.arrayContaining([...first.tenants!, ...localTenant]));
    expect(await load(true)).toEqual(local);
    expect(await load(false)).toEqual(self);
    expect(await load(true)).toEqual(local);
    expect(await load(false)).toEqual(self);
  });

  dbTest('local first: local → self → local → self', async ({ db }) => {
    const loadOnce = await reloadFixture(db, { sinceDays: 30, seeded, loadStrategy });
    const load = async (local: boolean) => (await loadOnce(local)).dump;
    const firstLocal = await load(true);
    const self = await load(false);
    const local = await load(true);
    expect({ ...local, tenants: undefined }).toEqual({ ...firstLocal, tenants: undefined });
    expect(await load(false)).toEqual(self);
    expect(await load(true)).toEqual(local);
  });
});
