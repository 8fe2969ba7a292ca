import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect } from 'vitest';

import { loadManifest } from '../../../src/manifest/index.js';
import { exportLoadAndCheck } from '../../setup/closure-round-trip.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';
import { exportOwner } from '../../setup/export-owner.js';
import { useTempDir } from '../../setup/temp-dir.js';

let dir: string;
useTempDir('closure-unique-keys-', (path) => (dir = path));

/**
 * parts has two unique keys (id, code) and a self-reference; one child references parts by id, another by
 * code. Parts 1 and 2 are wanted through both keys; part 5 only by code, and its parent 6 only through the
 * self-reference of a row closure fetched by code. Part 4 belongs to another owner's row.
 */
const schema = `
  create table parts (id int primary key, code text unique, parent_id int references parts, note text);
  create table by_id (id int primary key, owner text not null, part_id int references parts);
  create table by_code (id int primary key, owner text not null, part_code text references parts (code));`;
const data = `
  insert into parts values (1, 'one', null, 'a'), (2, 'two', 3, 'b'), (3, 'three', null, 'c'),
    (4, 'four', null, 'd'), (6, 'six', null, 'f'), (5, 'five', 6, 'e');
  insert into by_id values (1, 'me', 1), (2, 'me', 2), (3, 'you', 4);
  insert into by_code values (1, 'me', 'one'), (2, 'me', 'two'), (3, 'me', 'five');`;

/** The manifest, children in `children` order: the order closure drains the two keys of parts in. */
async function manifestFile(children: string[]): Promise<string> {
  const file = join(dir, `${children.join('-')}.json`);
  const table = (name: string) => ({ name, where: `t.owner = (select owner from params)` });
  await writeFile(
    file,
    JSON.stringify({
      appId: 'parts',
      adapter: 'postgres-subject-graph.v1',
      subjectKeys: ['owner'],
      postgres: {
        closure: 'parents',
        prodDatabaseUrlEnv: 'PARTS_PROD_URL',
        replayDatabaseUrlEnv: 'PARTS_REPLAY_URL',
        tableOrder: ['parts', ...children],
        tables: [...children.map(table), { name: 'parts', where: 'false' }],
      },
    }),
  );
  return file;
}

async function exportedPartIds(db: TestDatabase, app: string, extra: object): Promise<number[]> {
  const out = join(dir, 'c.json');
  await rm(out, { force: true });
  await exportOwner(db, await loadManifest(app), out, extra);
  const capsule = JSON.parse(await readFile(out, 'utf8')) as { tables: { parts: Array<{ id: number }> } };
  return capsule.tables.parts.map((row) => row.id).sort((a, b) => a - b);
}

describe('closure over a parent referenced through two unique keys', () => {
  dbTest('each part once, in either drain order, chunked or spilled; the capsule loads', async ({ db }) => {
    await db.query(schema + data);
    for (const children of [
      ['by_id', 'by_code'],
      ['by_code', 'by_id'],
    ]) {
      const app = await manifestFile(children);
      for (const extra of [{}, { closureChunkSize: 1 }, { closureChunkSize: 1, closureKeysInMemory: 1 }])
        expect(
          await exportedPartIds(db, app, extra),
          `${children.join(', ')} ${JSON.stringify(extra)}`,
        ).toEqual([1, 2, 3, 5, 6]);
    }
    // A duplicate row would fail the load on the primary key; doctor --capsule finds nothing dangling.
    const replay = await db.sibling();
    await replay.query(schema);
    const { exported } = await exportLoadAndCheck({
      db,
      replay,
      app: await manifestFile(['by_code', 'by_id']),
      capsule: join(dir, 'loaded.json'),
      subject: { owner: 'me' },
      sinceDays: 1,
      closureChunkSize: 1,
    });
    expect(exported.closureRows?.parts).toBe(5);
    const loaded = await replay.query<{ row: string }>(
      'select to_jsonb(p)::text as row from parts p order by id',
    );
    const source = await db.query<{ row: string }>(
      'select to_jsonb(p)::text as row from parts p where id <> 4 order by id',
    );
    expect(loaded).toEqual(source);
  });
});
