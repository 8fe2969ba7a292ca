import { expect } from 'vitest';

import { parseManifest } from '../../../src/manifest/index.js';
import { materialize } from '../../../src/services/materialize.js';
import { capsuleDir, lineCapsuleText, writeCapsuleFile } from '../../setup/capsules.js';
import { dbTest } from '../../setup/database.js';

// Columns named like the aliases of value verification's queries (t: the table, r: the typed capsule
// row), a generated column (not written: left out of the comparison), and a trigger that changes one
// row as it is inserted, so the digest differs and the exact comparison has to count the rows.
const schema = `
create table odd (id int primary key, tenant text not null, t text, r text, note text,
  note_length int generated always as (length(note)) stored);
create function odd_changed() returns trigger language plpgsql as $$
begin
  if new.id = 2 then new.note := 'changed by a trigger'; end if;
  return new;
end $$;
create trigger odd_changed before insert on odd for each row execute function odd_changed();`;

const manifest = parseManifest(
  JSON.stringify({
    appId: 'odd',
    adapter: 'postgres-subject-graph.v1',
    subjectKeys: ['tenant'],
    postgres: {
      graphEdges: [],
      tableOrder: ['odd'],
      tables: [
        {
          name: 'odd',
          where: 't.tenant = (select tenant from params)',
          deletePredicate: 't.tenant = g.tenant',
        },
      ],
    },
  }),
  { file: 'odd.json', path: '/virtual/odd.json', cwd: '/virtual' },
);

for (const directCopy of [true, false]) {
  dbTest(
    `columns named t and r: verification counts the one row a trigger changed (${directCopy ? 'direct COPY' : 'staging path'})`,
    async ({ db }) => {
      await db.query(schema);
      const rows = [1, 2, 3].map((id) => ({ id, tenant: 'x', t: `t${id}`, r: `r${id}`, note: `note ${id}` }));
      const path = await writeCapsuleFile(
        await capsuleDir(),
        'odd.json',
        lineCapsuleText({
          app: 'odd',
          subject: { tenant: 'x' },
          graph: [{ tenant: 'x', reasons: ['subject'] }],
          tables: { odd: rows },
        }),
      );
      const kept = await materialize({
        manifest,
        capsulePath: path,
        databaseUrl: db.url,
        keepTriggers: true,
        directCopy,
      });
      expect(kept.directCopy).toEqual(directCopy ? ['odd'] : []);
      expect(kept.valueDifferences).toEqual({ odd: 1 });
      expect(kept.verified).toBe(false);

      const exact = await materialize({ manifest, capsulePath: path, databaseUrl: db.url, directCopy });
      expect(exact.valueDifferences).toEqual({});
      expect(exact.verified).toBe(true);
      expect(await db.query('select id, t, r, note, note_length from odd order by id')).toEqual(
        rows.map((row) => ({ id: row.id, t: row.t, r: row.r, note: row.note, note_length: row.note.length })),
      );
    },
  );
}
