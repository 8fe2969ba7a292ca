import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { expect } from 'vitest';

import { runDoctor } from '../../../src/services/doctor.js';
import { materialize } from '../../../src/services/materialize.js';
import { dbTest } from '../../setup/database.js';
import { exportOwner, ownerManifest, ownerManifestText } from '../../setup/export-owner.js';
import { useTempDir } from '../../setup/temp-dir.js';

let dir: string;
useTempDir('closure-hostile-keys-', (path) => (dir = path));

const mine = 't.owner = (select owner from params)';
// A self-reference with multi-byte and long text keys, a two-table cycle, NULL keys, a table (tasks) missing from
// tableOrder, all through one key per chunk and one key in memory (every key spilled to sorted runs).
const ddl = `
  create table people (name text primary key, owner text not null, boss text references people);
  create table a (id int primary key, owner text not null, b_id int);
  create table b (id int primary key, owner text not null, a_id int references a);
  alter table a add foreign key (b_id) references b deferrable initially deferred;
  create table tasks (id int primary key, owner text not null, person text references people,
                      a_id int references a);`;
const long = 'ß'.repeat(3000);
const postgres = {
  closure: 'parents',
  tableOrder: ['people', 'a', 'b'],
  tables: [
    { name: 'tasks', where: mine },
    { name: 'people', where: 'false' },
    { name: 'a', where: 'false' },
    { name: 'b', where: 'false' },
  ],
};
const manifestText = ownerManifestText('hostile-keys', postgres);
const manifest = ownerManifest('hostile-keys', postgres);

for (const closureDirect of [false, true])
  dbTest(
    `self-reference, cycle, NULL and multi-byte keys at one key per chunk (${closureDirect ? 'one query' : 'passed keys'}): each wanted row once, equal to the source, verified`,
    async ({ db }) => {
      await db.query(`${ddl}
        begin;
        insert into people values ('${long}', 'x', null), ('é', 'x', '${long}'), ('日本', 'x', 'é'),
          ('z', 'x', 'z'), ('zz', 'x', null), ('a\\tb', 'x', '日本'), ('nul', 'x', null);
        insert into a values (1, 'x', 1), (2, 'x', 2), (3, 'x', null);
        insert into b values (1, 'x', 2), (2, 'x', 1), (3, 'x', 3);
        insert into tasks values (1, 'me', 'a\\tb', 1), (2, 'me', 'z', null), (3, 'me', null, null),
          (4, 'you', 'zz', 3), (5, 'me', 'é', 1);
        commit;`);
      const out = join(dir, `hostile-${closureDirect}.json`);
      await exportOwner(db, manifest, out, { closureDirect, closureChunkSize: 1, closureKeysInMemory: 1 });
      const capsule = JSON.parse(await readFile(out, 'utf8')) as { tables: Record<string, unknown[]> };
      expect(Object.keys(capsule.tables)).toEqual(['people', 'a', 'b', 'tasks']);
      const replay = await db.sibling();
      await replay.query(ddl);
      const app = join(dir, `m-${closureDirect}.json`);
      await writeFile(app, manifestText);
      const doctor = await runDoctor({ app, dbUrl: replay.url.connectionString(), capsule: out });
      expect(doctor.checks.filter((check) => check.status === 'fail')).toEqual([]);
      expect(doctor.checks.find((check) => check.id === 'capsule.closure')?.status).toBe('pass');
      const result = await materialize({ manifest, capsulePath: out, databaseUrl: replay.url });
      expect(result.verified).toBe(true);
      expect(result.directCopy).toEqual(['people', 'a', 'b', 'tasks']);
      const wanted: Record<string, string> = {
        people: `name in ('a\\tb', '日本', 'é', '${long}', 'z')`,
        a: 'id in (1, 2)',
        b: 'id in (1, 2)',
        tasks: "owner = 'me'",
      };
      for (const [table, where] of Object.entries(wanted)) {
        const source = await db.query(`select * from ${table} where ${where} order by 1`);
        expect(capsule.tables[table]).toHaveLength(source.length);
        expect(await replay.query(`select * from ${table} order by 1`)).toEqual(source);
      }
    },
  );
