import { expect } from 'vitest';

import { materialize } from '../../../src/services/materialize.js';
import { rowTexts, writeSubjectCapsule } from '../../setup/capsules.js';
import { dbTest } from '../../setup/database.js';
import { orgManifest } from '../../setup/deferred-keys.js';

// A one-dimensional jsonb[] of JSON arrays and a two-dimensional jsonb[] are the same JSON in a
// capsule (`[[1, 2], [3, 4]]`); the load makes the two-dimensional one. Both comparisons of value
// verification compare JSON, so they cannot see it: the load must not say `verified` for such rows.
const schema = `create table docs (id int primary key, tenant text not null, blobs jsonb[], tags text[]);`;

const manifest = orgManifest('docs', ['docs'], [], 'tenant');

for (const directCopy of [true, false]) {
  dbTest(
    `json/jsonb arrays of more than one dimension are not verified (${directCopy ? 'direct COPY' : 'staging path'})`,
    async ({ db }) => {
      await db.query(schema);
      const source = await db.sibling();
      await source.query(schema);
      // Row 1: a one-dimensional array of JSON arrays; row 2: JSON objects and scalars (unambiguous);
      // row 3: a text[][] (a text array's dimensions are its own: not affected).
      await source.query(`insert into docs values
        (1, 'x', array['[1,2]','[3,4]']::jsonb[], null),
        (2, 'x', array['{"a": [1, 2]}','3','"s"']::jsonb[], null),
        (3, 'x', null, '{{a,b},{c,d}}')`);
      expect(await source.query(`select array_ndims(blobs) as n from docs where id = 1`)).toEqual([{ n: 1 }]);
      const rows = await rowTexts(source, 'docs');
      expect(rows[0]).toContain('"blobs": [[1, 2], [3, 4]]');
      const capsulePath = await writeSubjectCapsule('docs', { tenant: 'x' }, { docs: rows });

      const result = await materialize({ manifest, capsulePath, databaseUrl: db.url, directCopy });
      expect(result.directCopy).toEqual(directCopy ? ['docs'] : []);
      expect(await db.query(`select id, array_ndims(blobs) as n from docs order by id`)).toEqual([
        { id: 1, n: 2 },
        { id: 2, n: 1 },
        { id: 3, n: null },
      ]);
      expect(result.valueDifferences).toEqual({});
      expect(result.nestedJsonArrays).toEqual({ docs: 1 });
      expect(result.verified).toBe(false);

      // Without the ambiguous row the same load is verified.
      const plain = await writeSubjectCapsule('docs', { tenant: 'x' }, { docs: rows.slice(1) });
      const exact = await materialize({ manifest, capsulePath: plain, databaseUrl: db.url, directCopy });
      expect(exact.nestedJsonArrays).toEqual({});
      expect(exact.verified).toBe(true);
    },
  );
}
