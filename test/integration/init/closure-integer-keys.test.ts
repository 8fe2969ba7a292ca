import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { expect } from 'vitest';

import { dbTest } from '../../setup/database.js';
import { exportOwner, kidsAndParentsManifest } from '../../setup/export-owner.js';
import { useTempDir } from '../../setup/temp-dir.js';

let dir: string;
useTempDir('closure-integer-keys-', (path) => (dir = path));

// Passed keys of one integer column travel as an integer array literal (closure-sql.ts
// keysAsIntegerArray): negative keys, each type's extremes, a smallint parent referenced from a bigint
// column (a value beyond smallint: no parent), a key wanted by two children, spilled at one key in memory.
const ddl = `
  create table big (id bigint primary key, note text);
  create table small (id smallint primary key, note text);
  create table kids (id int primary key, owner text not null, big_id bigint references big,
                     small_id bigint);
  insert into big values (-9223372036854775808, 'min'), (9223372036854775807, 'max'), (-1, 'minus one'),
    (0, 'zero'), (5, 'another owner''s');
  insert into small values (-32768, 'min'), (32767, 'max'), (-7, 'minus seven'), (8, 'another owner''s');
  insert into kids values (1, 'me', -9223372036854775808, -32768), (2, 'me', 9223372036854775807, 32767),
    (3, 'me', -1, -7), (4, 'me', 0, 40000), (5, 'me', -1, null), (6, 'you', 5, 8);
  alter table kids add foreign key (small_id) references small not valid;`;

for (const chunk of [1, 2, 10_000])
  dbTest(
    `integer keys by passed keys, ${chunk} a chunk: each wanted row once, equal to the source`,
    async ({ db }) => {
      await db.query(ddl);
      const manifest = kidsAndParentsManifest('integer-keys', ['big', 'small']);
      const out = join(dir, `c-${chunk}.json`);
      const result = await exportOwner(db, manifest, out, {
        closureDirect: false,
        closureChunkSize: chunk,
        closureKeysInMemory: 1,
      });
      expect(result.closureRows).toEqual({ big: 4, small: 3, kids: 0 });
      const capsule = JSON.parse(await readFile(out, 'utf8')) as { tables: Record<string, unknown[]> };
      // Closure's chunks come in no particular order: rows compared by their note (one per row).
      const byNote = (rows: unknown[] = []) =>
        rows
          .map((row) => JSON.stringify(row))
          .sort((a, b) => (JSON.parse(a).note < JSON.parse(b).note ? -1 : 1));
      const source = async (sql: string) =>
        (await db.query<{ row: unknown }>(`select to_jsonb(t) as row from (${sql}) t order by id`)).map(
          (r) => r.row,
        );
      expect(byNote(capsule.tables.big)).toEqual(byNote(await source('select * from big where id <> 5')));
      expect(byNote(capsule.tables.small)).toEqual(byNote(await source('select * from small where id <> 8')));
    },
  );
