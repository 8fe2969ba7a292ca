import { expect } from 'vitest';

import { materialize } from '../../../src/services/materialize.js';
import { writeSubjectCapsule } from '../../setup/capsules.js';
import { dbTest } from '../../setup/database.js';
import { orgManifest } from '../../setup/deferred-keys.js';
import { foreignKeyCatalog, rebuilt } from '../../setup/index-catalog.js';

/**
 * Deferred foreign-key checks (src/materialize/deferred-foreign-keys.ts) against what happens after a
 * table's keys were dropped for its COPY: a cascade from a later table's upsert, a later table's INSERT
 * rule, a row that sends the load to the staging path. The load must end as with per-row checks.
 */
const manifest = orgManifest('fkfid', ['tickets']);

dbTest(
  'a key with an ON UPDATE action, its parent changed later by a cascade: the load passes as before',
  async ({ db }) => {
    // kinds is shared (never deleted) and loaded after tickets: its upsert renames 'old' to 'new', which
    // cascades into codes, which cascades into tickets while tickets' key is in place. Checked only at the
    // end, tickets would still hold 'old'.
    const cascade = orgManifest('fkcascade', ['tickets', 'kinds'], ['kinds']);
    const schema = `
    create table kinds (id bigint primary key, code text not null unique);
    insert into kinds values (1, 'old');
    create table codes (code text primary key references kinds (code) on update cascade);
    insert into codes values ('old');
    -- a cascade changes sites.kind, never sites.id: tickets' key to sites is still deferred
    create table sites (id bigint primary key, kind text references kinds (code) on update cascade);
    insert into sites values (7, 'old');
    create table tickets (id bigint primary key, org_id text not null,
      code text not null constraint tickets_code_fk references codes on update cascade,
      site bigint constraint tickets_site_fk references sites);`;
    const capsulePath = await writeSubjectCapsule(
      'fkcascade',
      { org_id: 'acme' },
      { tickets: [{ id: 1, org_id: 'acme', code: 'old', site: 7 }], kinds: [{ id: 1, code: 'new' }] },
    );
    const perRow = await db.sibling();
    await perRow.query(schema);
    await materialize({ manifest: cascade, capsulePath, databaseUrl: perRow.url, keepForeignKeys: true });
    expect(await perRow.query('select code from tickets')).toEqual([{ code: 'new' }]);

    const replay = await db.sibling();
    await replay.query(schema);
    const before = await foreignKeyCatalog(replay);
    const result = await materialize({ manifest: cascade, capsulePath, databaseUrl: replay.url });
    expect(result.directCopy).toEqual(['tickets']);
    expect(await replay.query('select code from tickets')).toEqual([{ code: 'new' }]);
    const after = await foreignKeyCatalog(replay);
    expect(after.keys).toEqual(before.keys);
    expect(rebuilt(before.oids, after.oids)).toEqual(['tickets_site_fk']);
  },
);

dbTest(
  'a later table whose INSERT rule adds the missing parent: the load fails as with per-row checks',
  async ({ db }) => {
    // Rules are not triggers: they run whatever the load turns off. events' rule adds the category that
    // tickets' row lacked when it was copied; the per-row check had failed by then.
    const ruled = orgManifest('fkrule', ['tickets', 'events']);
    const schema = `
    create table categories (code text primary key);
    create table tickets (id bigint primary key, org_id text not null,
      category text not null constraint tickets_category_fk references categories);
    create table events (id bigint primary key, org_id text not null, category text not null);
    create rule add_category as on insert to events do also insert into categories values (new.category);`;
    const capsulePath = await writeSubjectCapsule(
      'fkrule',
      { org_id: 'acme' },
      {
        tickets: [{ id: 1, org_id: 'acme', category: 'late' }],
        events: [{ id: 1, org_id: 'acme', category: 'late' }],
      },
    );
    for (const keepForeignKeys of [true, false]) {
      const replay = await db.sibling();
      await replay.query(schema);
      const before = await foreignKeyCatalog(replay);
      await expect(
        materialize({ manifest: ruled, capsulePath, databaseUrl: replay.url, keepForeignKeys }),
      ).rejects.toMatchObject({
        sqlState: '23503',
        message: expect.stringMatching(/violates foreign key constraint "tickets_category_fk"/),
      });
      expect(await foreignKeyCatalog(replay)).toEqual(before);
    }
  },
);

dbTest(
  'a row only the staging path loads, after the keys were dropped: rolled back first, keys as they were',
  async ({ db }) => {
    // The second row's number for a text column sends the load to the staging path (UseStaging) after
    // tickets' key was dropped for its COPY: the rollback must bring it back before the staging path runs.
    const replay = await db.sibling();
    await replay.query(`
    create table categories (code text primary key);
    insert into categories values ('bug'), ('5');
    create table tickets (id bigint primary key, org_id text not null,
      category text not null constraint tickets_category_fk references categories);`);
    const capsulePath = await writeSubjectCapsule(
      'fkfid',
      { org_id: 'acme' },
      {
        tickets: [
          { id: 1, org_id: 'acme', category: 'bug' },
          { id: 2, org_id: 'acme', category: 5 },
        ],
      },
    );
    const before = await foreignKeyCatalog(replay);
    const result = await materialize({ manifest, capsulePath, databaseUrl: replay.url });
    expect(result.verified).toBe(true);
    expect(result.directCopy).toEqual([]);
    expect(await foreignKeyCatalog(replay)).toEqual(before);
    expect(await replay.query('select category from tickets order by id')).toEqual([
      { category: 'bug' },
      { category: '5' },
    ]);
  },
);
