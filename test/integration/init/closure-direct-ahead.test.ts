import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { expect } from 'vitest';

import { filesBesidesAudit } from '../../setup/capsule-folder.js';
import { dbTest } from '../../setup/database.js';
import { exportOwner, ownerManifest } from '../../setup/export-owner.js';
import { useTempDir } from '../../setup/temp-dir.js';

let dir: string;
useTempDir('closure-ahead-', (path) => (dir = path));

// parents: 60,000 rows of owner me (its own query, ~40 MB) and 20,000 of another owner that me's kids
// reference (closure's one query, ~13 MB: more than the 8 MiB read ahead). kids is small: the connection
// that reads it is left without a table while parents' own rows still stream, and reads parents' closure
// rows then (closure.ts directAhead), which wait in the buffer until the own rows are in.
const ddl = `
  create table parents (id int primary key, owner text not null, pad text not null);
  create table kids (id int primary key, owner text not null, parent_id int references parents);`;
const rows = `
  insert into parents select i, case when i <= 60000 then 'me' else 'x' end, repeat(md5(i::text), 20)
    from generate_series(1, 90000) i;
  insert into kids select i, 'me', 60000 + i from generate_series(1, 20000) i;
  insert into kids values (20001, 'me', 7), (20002, 'you', 85000);`;

const manifest = (rowSql: string) =>
  ownerManifest('ahead', {
    closure: 'parents',
    tableOrder: ['parents', 'kids'],
    tables: [
      { name: 'parents', where: 't.owner = (select owner from params)', rowSql, orderBy: 't.id' },
      { name: 'kids', where: 't.owner = (select owner from params)' },
    ],
  });

interface ParentRow {
  id: number;
  owner: string;
  pid: number;
}

dbTest(
  'closure rows read by the other connection while the own rows stream: each once, after them, as by passed keys',
  async ({ db }) => {
    await db.query(`${ddl}${rows}`);
    const rowSql = `jsonb_build_object('id', t.id, 'owner', t.owner, 'pad', t.pad, 'pid', pg_backend_pid())`;
    const parentsOf = async (closureDirect: boolean) => {
      const out = join(dir, `ahead-${closureDirect}.json`);
      const result = await exportOwner(db, manifest(rowSql), out, { closureDirect });
      const capsule = JSON.parse(await readFile(out, 'utf8')) as { tables: { parents: ParentRow[] } };
      return { result, parents: capsule.tables.parents };
    };
    const ids = (list: ParentRow[]) => list.map((row) => row.id).sort((a, b) => a - b);
    const { result, parents } = await parentsOf(true);
    expect(result.rowCounts).toEqual({ parents: 80000, kids: 20001 });
    expect(result.closureRows).toEqual({ parents: 20000, kids: 0 });
    const own = parents.slice(0, 60000);
    const added = parents.slice(60000);
    expect(ids(own)).toEqual(Array.from({ length: 60000 }, (_, i) => i + 1));
    expect(added.map((row) => row.id)).toEqual(Array.from({ length: 20000 }, (_, i) => 60001 + i));
    expect(new Set(added.map((row) => row.owner))).toEqual(new Set(['x']));
    // Read by the other connection (the one that read kids), not after the own rows on theirs.
    const ownPid = own[0]!.pid;
    expect(own.every((row) => row.pid === ownPid)).toBe(true);
    expect(added.every((row) => row.pid === added[0]!.pid && row.pid !== ownPid)).toBe(true);
    const byKeys = await parentsOf(false);
    expect(ids(parents)).toEqual(ids(byKeys.parents));
    expect(byKeys.result.closureRows).toEqual(result.closureRows);
  },
);

dbTest(
  'a closure query failing on the other connection while the own rows stream: its error, no capsule, no spool',
  async ({ db }) => {
    await db.query(`${ddl}${rows}`);
    const out = join(dir, 'failed', 'c.json');
    // Only parent 80000, which the one query fetches, divides by zero.
    const broken = manifest(`to_jsonb(t) || jsonb_build_object('q', 1 / (t.id - 80000))`);
    await expect(exportOwner(db, broken, out)).rejects.toThrow(/division by zero/);
    expect(await filesBesidesAudit(join(dir, 'failed'))).toEqual([]);
  },
);

// Waiting in the buffer, the query could overrun a statement_timeout the own rows would not: none then.
dbTest(
  'under a statement_timeout, the closure rows come after the own rows on their connection',
  async ({ db }) => {
    await db.query(`${ddl}${rows}`);
    await db.query(
      `do $$ begin execute format('alter database %I set statement_timeout = %L', current_database(), '1h'); end $$`,
    );
    const rowSql = `jsonb_build_object('id', t.id, 'pid', pg_backend_pid())`;
    const out = join(dir, 'timeout.json');
    await exportOwner(db, manifest(rowSql), out);
    const { parents } = (JSON.parse(await readFile(out, 'utf8')) as { tables: { parents: ParentRow[] } })
      .tables;
    expect(parents).toHaveLength(80000);
    expect(new Set(parents.map((row) => row.pid)).size).toBe(1);
  },
);

// Red team (nineteenth session): with the closure rows read ahead past the buffer and their COPY ended,
// the other connection's lane waited for the buffer to drain, which only the failed lane would have
// done: the export hung instead of failing.
dbTest(
  'the own rows failing after the closure rows were read ahead past the buffer: the error, no hang, no files',
  async ({ db }) => {
    await db.query(`${ddl}${rows}`);
    const out = join(dir, 'own-failed', 'c.json');
    // Own row 59990 sleeps (the closure rows are read meanwhile), 60000 divides by zero.
    const broken = manifest(
      `to_jsonb(t) || jsonb_build_object('q', 1 / (t.id - 60000), 's', case when t.id = 59990 then pg_sleep(2)::text end)`,
    );
    await expect(exportOwner(db, broken, out)).rejects.toThrow(/division by zero/);
    expect(await filesBesidesAudit(join(dir, 'own-failed'))).toEqual([]);
  },
  30_000,
);
