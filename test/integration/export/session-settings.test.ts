import { join } from 'node:path';

import { expect } from 'vitest';

import { materialize } from '../../../src/services/materialize.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';
import { exportOwner, ownerManifest } from '../../setup/export-owner.js';
import { useTempDir } from '../../setup/temp-dir.js';

let dir: string;
useTempDir('session-settings-', (path) => (dir = path));

// A database (or role) whose sessions print floats rounded (extra_float_digits = 0, as old dump tools set)
// and intervals in sql_standard style (`-1 2:00:00`: the sign applies to every field) must not change values
// on the way: the export pins both (src/export/snapshot.ts). Found in session 14: the capsule held 0.3
// for 0.1 + 0.2 and the load said verified: yes, comparing JSON that had lost the same digits.
const ddl = `create table m (id int primary key, owner text not null, f float8, r real, i interval, fs float8[])`;
const manifest = ownerManifest('session-settings', {
  tables: [{ name: 'm', where: 't.owner = (select owner from params)' }],
});

/** The values as text, printed exactly whatever the database's own settings. */
async function exact(db: TestDatabase): Promise<unknown[]> {
  return db.query(`select id, f::text, r::text, i::text, fs::text from m order by id`).then((rows) => rows);
}

dbTest(
  'extra_float_digits 0 and sql_standard intervals on the source: values arrive exactly',
  async ({ db }) => {
    await db.query(`${ddl};
    insert into m values (1, 'me', 0.1::float8 + 0.2, 0.1::real * 3, '-1 day +2 hours', array[1/3::float8]),
      (2, 'me', 1e-310, 3.4e38, '1 day -2 hours 3 minutes', null), (3, 'me', 'NaN', '-Infinity', '-3 days', null);
    alter database ${db.name} set extra_float_digits = 0;
    alter database ${db.name} set intervalstyle = 'sql_standard';`);
    const out = join(dir, 'm.json');
    await exportOwner(db, manifest, out);
    const replay = await db.sibling();
    // The replay database prints the same way: verification must not see a difference that is not there.
    await replay.query(`${ddl};
      alter database ${replay.name} set extra_float_digits = 0;
      alter database ${replay.name} set intervalstyle = 'sql_standard';`);
    const result = await materialize({ manifest, capsulePath: out, databaseUrl: replay.url });
    expect(result.verified).toBe(true);
    // Compared in sessions of one fixed style (the test's own connections set nothing: defaults).
    for (const each of [db, replay]) await each.query(`alter database ${each.name} reset all`);
    expect(await exact(replay)).toEqual(await exact(db));
    expect((await exact(db))[0]).toMatchObject({ f: '0.30000000000000004', i: '-1 days +02:00:00' });
  },
);
