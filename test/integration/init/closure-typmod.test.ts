import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { expect } from 'vitest';

import { parseManifest } from '../../../src/manifest/index.js';
import { dbTest } from '../../setup/database.js';
import { exportOwner } from '../../setup/export-owner.js';
import { useTempDir } from '../../setup/temp-dir.js';

let dir: string;
useTempDir('closure-typmod-', (path) => (dir = path));

// Closure casts a child's key to the referenced column's type. A cast to a type with a length or a
// precision truncates or rounds ('abcdef'::varchar(3) is 'abc', 1.005::numeric(6,2) is 1.01), where a
// foreign key compares values as they are. A key that matches no parent (a NOT VALID foreign key over
// old rows) must then bring no parent in, not one that only shares its first characters or digits.
const schema = `
  create domain short_text as varchar(3);
  create table parents (code varchar(3) primary key, owner text not null);
  create table amounts (amount numeric(6,2) primary key, owner text not null);
  create table labels (label short_text primary key, owner text not null);
  create table kids (id int primary key, owner text not null, code varchar(10), amount numeric(10,4),
                     label text);
  insert into parents values ('abc', 'other'), ('xyz', 'other');
  insert into amounts values (1.01, 'other'), (2.00, 'other');
  insert into labels values ('abc', 'other'), ('xyz', 'other');
  insert into kids values (1, 'me', 'abcdef', 1.005, 'abcdef'), (2, 'me', 'xyz', 2, 'xyz');
  alter table kids add foreign key (code) references parents not valid;
  alter table kids add foreign key (amount) references amounts not valid;
  alter table kids add foreign key (label) references labels not valid;
`;

for (const closureDirect of [true, false]) {
  dbTest(
    `a key longer or finer than the parent's column brings no parent in (${closureDirect ? 'one query' : 'passed keys'})`,
    async ({ db }) => {
      await db.query(schema);
      const manifest = parseManifest(
        JSON.stringify({
          appId: 'typmod',
          adapter: 'postgres-subject-graph.v1',
          subjectKeys: ['owner'],
          postgres: {
            closure: 'parents',
            tables: [
              { name: 'parents', where: 'false' },
              { name: 'amounts', where: 'false' },
              { name: 'labels', where: 'false' },
              { name: 'kids', where: 't.owner = (select owner from params)' },
            ],
          },
        }),
        { file: 'm.json', path: '/tmp/m.json', cwd: '/tmp' },
      );
      const out = join(dir, `c-${closureDirect}.json`);
      await exportOwner(db, manifest, out, { closureDirect });
      const { tables } = JSON.parse(await readFile(out, 'utf8')) as {
        tables: Record<string, Record<string, unknown>[]>;
      };
      expect(tables.kids).toHaveLength(2);
      expect(tables.parents).toEqual([{ code: 'xyz', owner: 'other' }]);
      expect(tables.amounts).toEqual([{ amount: 2.0, owner: 'other' }]);
      expect(tables.labels).toEqual([{ label: 'xyz', owner: 'other' }]);
    },
  );
}
