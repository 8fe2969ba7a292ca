import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { expect } from 'vitest';

import { materialize } from '../../../src/services/materialize.js';
import { dbTest } from '../../setup/database.js';
import { exportOwner, ownerManifest } from '../../setup/export-owner.js';
import { useTempDir } from '../../setup/temp-dir.js';

let dir: string;
useTempDir('closure-load-order-', (path) => (dir = path));

const mine = 't.owner = (select owner from params)';
// grand is wanted through parents' rows (a grandparent: its keys are passed), parents through kids' and
// toys' (passed too when closureDirect is false); kids and toys are closed, and follow parents in load order.
const ddl = `
  create table grand (id int primary key, owner text not null);
  create table parents (id bigint primary key, owner text not null, grand_id int references grand);
  create table kids (id int primary key, owner text not null, parent_id bigint references parents);
  create table toys (id int primary key, owner text not null, parent_id bigint references parents);`;
const manifest = ownerManifest('load-order', {
  closure: 'parents',
  tableOrder: ['grand', 'parents', 'kids', 'toys'],
  tables: [
    { name: 'toys', where: mine, deletePredicate: 't.owner = g.owner' },
    { name: 'kids', where: mine, deletePredicate: 't.owner = g.owner' },
    { name: 'parents', where: 'false', deletePredicate: 't.owner = g.owner' },
    { name: 'grand', where: 'false', deletePredicate: 't.owner = g.owner' },
  ],
});

for (const closureDirect of [false, true])
  dbTest(
    `parents by ${closureDirect ? 'one query and ' : ''}passed keys: the capsule is in load order, its children spooled while parents complete, and loads by direct COPY`,
    async ({ db }) => {
      await db.query(`${ddl}
      insert into grand values (1, 'x'), (2, 'x'), (3, 'x');
      insert into parents values (10, 'x', 1), (11, 'x', null), (12, 'x', 2), (13, 'x', 3);
      insert into kids values (1, 'me', 10), (2, 'me', 11), (3, 'you', 13);
      insert into toys values (1, 'me', 12), (2, 'you', 13), (3, 'me', null);`);
      const out = join(dir, `ordered-${closureDirect}.json`);
      // One key per chunk, one key in memory: every parent goes through chunks and spilled runs.
      const exported = await exportOwner(db, manifest, out, {
        closureDirect,
        closureChunkSize: 1,
        closureKeysInMemory: 1,
      });
      expect(exported.closureRows).toEqual({ grand: 2, parents: 3, kids: 0, toys: 0 });
      const capsule = JSON.parse(await readFile(out, 'utf8')) as { tables: Record<string, unknown[]> };
      expect(Object.keys(capsule.tables)).toEqual(['grand', 'parents', 'kids', 'toys']);
      const replay = await db.sibling();
      await replay.query(ddl);
      const result = await materialize({ manifest, capsulePath: out, databaseUrl: replay.url });
      expect(result.directCopy).toEqual(['grand', 'parents', 'kids', 'toys']);
      expect(result.verified).toBe(true);
      // Exactly owner me's kids and toys and the parents and grandparents they reach, equal to the source.
      const wanted: Record<string, string> = {
        grand: 'id in (1, 2)',
        parents: 'id in (10, 11, 12)',
        kids: "owner = 'me'",
        toys: "owner = 'me'",
      };
      for (const [table, where] of Object.entries(wanted))
        expect(await replay.query(`select * from ${table} order by id`)).toEqual(
          await db.query(`select * from ${table} where ${where} order by id`),
        );
    },
  );
