import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { expect } from 'vitest';

import { materialize } from '../../../src/services/materialize.js';
import { dbTest } from '../../setup/database.js';
import { exportOwner, ownerManifest } from '../../setup/export-owner.js';
import { useTempDir } from '../../setup/temp-dir.js';

let dir: string;
useTempDir('direct-arrays-red-', (path) => (dir = path));

const ddl = `create table things (id int primary key, owner text not null, tags text[], grid text[][],
  docs jsonb[], nums numeric[], flags bool[], j jsonb)`;
const manifest = ownerManifest('arrays-red', {
  tables: [
    { name: 'things', where: 't.owner = (select owner from params)', deletePredicate: 't.owner = g.owner' },
  ],
});

dbTest(
  'arrays with backslashes, quotes, NULL strings, nesting and jsonb[] load exactly by direct COPY',
  async ({ db }) => {
    await db.query(`${ddl};
    insert into things values
      (1, 'me', array['a\\b', 'c"d', 'NULL', null, '', ' sp ', '{x}', 'a,b', E'tab\\there', E'nl\\nx', '\\\\N', 'é\u{1F600}'],
        array[['\\', '"'], ['NULL', null]], array['{"a": "x\\\\y"}'::jsonb, '"NULL"', 'null', '{"q": "\\""}', null],
        array[1.50, -2, null], array[true, null, false], '{"k": ["\\\\", "\\""]}'),
      (2, 'me', array['plain', 'words'], array[['a', 'b']], array['{}'::jsonb], array[]::numeric[], array[]::bool[], '[]'),
      (3, 'me', '{}', null, '{}', null, null, null),
      (4, 'me', array['\\N'], array[['\\.', 'x']], array['"\\\\N"'::jsonb], array[0], array[true], '"\\\\."');`);
    const out = join(dir, 'arrays.json');
    await exportOwner(db, manifest, out);
    const replay = await db.sibling();
    await replay.query(ddl);
    const result = await materialize({ manifest, capsulePath: out, databaseUrl: replay.url });
    expect(result.directCopy).toEqual(['things']);
    // Row 1's docs holds the JSON null 'null' beside a SQL NULL: the capsule writes both as null, both load
    // as SQL NULL (to_jsonb below cannot tell), so the load is not verified and says which column.
    expect(result.lossy).toEqual({ things: { docs: 1 } });
    expect(result.verified).toBe(false);
    expect(await replay.query('select docs[3] is null as lost from things where id = 1')).toEqual([
      { lost: true },
    ]);
    const rows = (sql: string) => replay.query<{ row: unknown }>(sql).then((r) => r.map((x) => x.row));
    expect(await rows('select to_jsonb(t) as row from things t order by id')).toEqual(
      await db
        .query<{ row: unknown }>('select to_jsonb(t) as row from things t order by id')
        .then((r) => r.map((x) => x.row)),
    );
    const capsule = JSON.parse(await readFile(out, 'utf8')) as { tables: { things: unknown[] } };
    expect(await rows('select to_jsonb(t) as row from things t order by id')).toEqual(capsule.tables.things);
  },
);

dbTest('a capsule path that is a directory or unreadable: one clear line, nothing loaded', async ({ db }) => {
  await db.query(ddl);
  const replay = await db.sibling();
  await replay.query(ddl);
  const folder = join(dir, 'folder.json');
  await mkdir(folder);
  await expect(materialize({ manifest, capsulePath: folder, databaseUrl: replay.url })).rejects.toThrow(
    /^[^\n]+$/,
  );
  const locked = join(dir, 'locked.json');
  await writeFile(locked, '{}');
  await chmod(locked, 0);
  await expect(materialize({ manifest, capsulePath: locked, databaseUrl: replay.url })).rejects.toThrow(
    /^[^\n]+$/,
  );
  expect(await replay.query('select count(*)::int as n from things')).toEqual([{ n: 0 }]);
});
