import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { expect } from 'vitest';

import { parseManifest } from '../../../src/manifest/index.js';
import { dbTest } from '../../setup/database.js';
import { exportOwner } from '../../setup/export-owner.js';
import { useTempDir } from '../../setup/temp-dir.js';

let dir: string;
useTempDir('closure-cast-overflow-', (path) => (dir = path));

// Under a NOT VALID foreign key, old child rows may hold a value the parent's column cannot hold at all:
// too many digits for numeric(6,2) (or 9999.995, which rounds to too many), a value a domain's check refuses, a bigint beyond integer. Such a key
// equals no parent: it must bring no parent in, not fail the export with the cast's error.
const schema = (kind: string) => `
  create domain checked_code as text check (value <> 'bad');
  create table amounts (amount numeric(6,2) primary key, owner text not null);
  create table codes (code checked_code primary key, owner text not null);
  create table counters (n integer primary key, owner text not null);
  create table kids (id int primary key, owner text not null, amount numeric, code text, n bigint);
  insert into amounts values (2.00, 'other'), ('NaN', 'other');
  insert into codes values ('xyz', 'other');
  insert into counters values (7, 'other');
  insert into kids values (1, 'me', ${kind === 'amount' ? 123456789 : kind === 'rounding' ? 9999.995 : 2}, ${kind === 'code' ? `'bad'` : `'xyz'`},
                           ${kind === 'n' ? 1099511627776 : 7}),
                          (2, 'me', 2, 'xyz', 7), (3, 'me', 'NaN', null, null);
  alter table kids add foreign key (amount) references amounts not valid;
  alter table kids add foreign key (code) references codes not valid;
  alter table kids add foreign key (n) references counters not valid;
`;

for (const kind of ['amount', 'rounding', 'code', 'n']) {
  for (const closureDirect of [true, false]) {
    dbTest(
      `a ${kind} key the parent's type cannot hold brings no parent in (${closureDirect ? 'one query' : 'passed keys'})`,
      async ({ db }) => {
        await db.query(schema(kind));
        const manifest = parseManifest(
          JSON.stringify({
            appId: 'cast-overflow',
            adapter: 'postgres-subject-graph.v1',
            subjectKeys: ['owner'],
            postgres: {
              closure: 'parents',
              tables: [
                { name: 'amounts', where: 'false' },
                { name: 'codes', where: 'false' },
                { name: 'counters', where: 'false' },
                { name: 'kids', where: 't.owner = (select owner from params)' },
              ],
            },
          }),
          { file: 'm.json', path: '/tmp/m.json', cwd: '/tmp' },
        );
        const out = join(dir, `c-${kind}-${closureDirect}.json`);
        await exportOwner(db, manifest, out, { closureDirect });
        const { tables } = JSON.parse(await readFile(out, 'utf8')) as {
          tables: Record<string, Record<string, unknown>[]>;
        };
        expect(tables.kids).toHaveLength(3);
        // NaN equals NaN for numeric (and for the foreign key): that parent still comes.
        expect(tables.amounts).toEqual([
          { amount: 2.0, owner: 'other' },
          { amount: 'NaN', owner: 'other' },
        ]);
        expect(tables.codes).toEqual([{ code: 'xyz', owner: 'other' }]);
        expect(tables.counters).toEqual([{ n: 7, owner: 'other' }]);
      },
    );
  }
}
