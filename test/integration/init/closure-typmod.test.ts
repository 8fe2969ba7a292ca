import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { expect } from 'vitest';

import { dbTest, type TestDatabase } from '../../setup/database.js';
import { exportOwner, ownerManifest } from '../../setup/export-owner.js';
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
      const tables = await exportClosure(
        db,
        ['parents', 'amounts', 'labels'],
        join(dir, `c-${closureDirect}.json`),
        closureDirect,
      );
      expect(tables.kids).toHaveLength(2);
      expect(tables.parents).toEqual([{ code: 'xyz', owner: 'other' }]);
      expect(tables.amounts).toEqual([{ amount: 2.0, owner: 'other' }]);
      expect(tables.labels).toEqual([{ label: 'xyz', owner: 'other' }]);
    },
  );
}

// Under a NOT VALID foreign key, old child rows may hold a value the parent's column cannot hold at all:
// too many digits for numeric(6,2) (or 9999.995, which rounds to too many), a value a domain's check
// refuses, a bigint beyond integer. Such a key equals no parent: it must bring no parent in, not fail the
// export with the cast's error.
const overflowSchema = (kind: string) => `
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
        await db.query(overflowSchema(kind));
        const tables = await exportClosure(
          db,
          ['amounts', 'codes', 'counters'],
          join(dir, `o-${kind}-${closureDirect}.json`),
          closureDirect,
        );
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

/**
 * Exports owner me's kids with `parents` (where false: only what closure brings) under closure
 * `parents`; returns the capsule's tables.
 */
async function exportClosure(
  db: TestDatabase,
  parents: readonly string[],
  out: string,
  closureDirect: boolean,
): Promise<Record<string, Record<string, unknown>[]>> {
  const manifest = ownerManifest('typmod', {
    closure: 'parents',
    tables: [
      ...parents.map((name) => ({ name, where: 'false' })),
      { name: 'kids', where: 't.owner = (select owner from params)' },
    ],
  });
  await exportOwner(db, manifest, out, { closureDirect });
  return (JSON.parse(await readFile(out, 'utf8')) as { tables: Record<string, Record<string, unknown>[]> })
    .tables;
}
