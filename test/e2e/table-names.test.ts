import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect } from 'vitest';
import { parse } from 'yaml';

import { parseJsonOutput, runCli } from '../setup/cli.js';
import { dbTest, type TestDatabase, testerPassword } from '../setup/database.js';
import { exportArgs, runLoadCommand } from '../setup/load-command.js';

// Red-team defect A: manifest table names were SQL as written, so `user` read current_user, `order` was
// a syntax error and `Items` "did not exist". One rule now (src/postgres/identifiers.ts), used by init,
// doctor, export, closure and both materialize strategies. Every table here needs quoting in SQL: a
// schema with a capital and a space, two reserved words, capitals, a space, and foreign keys between them
// (one of them through a column named like a keyword), and a parent table filled by closure.
const schema = `
  create schema "Sales Ops";
  set search_path = "Sales Ops";
  create table "Price Plans" (id int primary key, "Tier" text);
  create table customers (id int primary key, name text not null, plan_id int references "Price Plans");
  create table "user" (id int primary key, customer_id int not null references customers, email text);
  create table "order" (id int primary key, customer_id int not null references customers,
                        placed_by int references "user", total numeric(10,2));
  create table "Items" (id int primary key, "order" int not null references "order", "Label" text);
  create table "Deal Notes" (id int primary key, item_id int not null references "Items", "Body" text);
  reset search_path;
`;
const data = `
  set search_path = "Sales Ops";
  insert into "Price Plans" values (7, 'gold'), (8, 'silver');
  insert into customers values (1, 'Ann', 7), (2, 'Bo', 8);
  insert into "user" values (10, 1, 'ann@example.test'), (20, 2, 'bo@example.test');
  insert into "order" values (100, 1, 10, 19.90), (101, 1, null, 5), (200, 2, 20, 7);
  insert into "Items" values (1000, 100, 'A "quoted" label'), (1001, 101, 'Zwei'), (2000, 200, 'other');
  insert into "Deal Notes" values (1, 1000, 'first'), (2, 1001, 'second'), (3, 2000, 'not exported');
  reset search_path;
`;
const tables: Array<[manifestName: string, sql: string]> = [
  ['"Sales Ops"."Price Plans"', '"Sales Ops"."Price Plans"'],
  ['"Sales Ops".customers', '"Sales Ops".customers'],
  ['"Sales Ops".user', '"Sales Ops"."user"'],
  ['"Sales Ops".order', '"Sales Ops"."order"'],
  ['"Sales Ops"."Items"', '"Sales Ops"."Items"'],
  ['"Sales Ops"."Deal Notes"', '"Sales Ops"."Deal Notes"'],
];

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'e2e-names-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function rowsOf(db: TestDatabase): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [name, sql] of tables) {
    out[name] = (await db.query<{ r: unknown }>(`select to_jsonb(t) as r from ${sql} t order by t.id`)).map(
      (row) => row.r,
    );
  }
  return out;
}

describe('tables whose names need quoting, end to end', () => {
  dbTest(
    'init → doctor → export-postgres → materialize-postgres (copy and jsonb), values equal',
    async ({ db }) => {
      await db.query(schema + data);
      const app = join(dir, 'app.yaml');
      const init = await runCli([
        'init',
        '--db-url',
        db.url.connectionString(),
        '--schema',
        'Sales Ops',
        '--subject-table',
        'customers',
        '--sample-subject',
        'customer_id=1',
        '--out',
        app,
        '--json',
      ]);
      expect(init.exitCode, init.stderr).toBe(0);
      const manifest = parse(await readFile(app, 'utf8')) as {
        postgres: { tables: Array<{ name: string }> };
      };
      expect(manifest.postgres.tables.map((table) => table.name).sort()).toEqual(
        tables.map(([name]) => name).sort(),
      );
      const reasoning = parseJsonOutput<{
        reasoning: { tables: Array<{ name: string; sampleRows: number }> };
      }>(init.stdout).reasoning;
      expect(
        Object.fromEntries(reasoning.tables.map((table) => [table.name, table.sampleRows])),
      ).toMatchObject({
        '"Sales Ops".user': 1,
        '"Sales Ops".order': 2,
        '"Sales Ops"."Items"': 2,
        '"Sales Ops"."Deal Notes"': 2,
      });

      const replays = [await db.sibling(), await db.sibling()];
      for (const replay of replays) await replay.query(schema);

      const doctor = await runCli(['doctor', '--app', app, '--db-url', replays[0]!.url.connectionString()]);
      expect(doctor.exitCode, doctor.stdout).toBe(0);
      for (const [name] of tables) expect(doctor.stdout).toContain(`[pass] table ${name}: exists`);
      expect(doctor.stdout).not.toContain('[fail]');

      const capsule = join(dir, 'c.json');
      const exported = await runCli(
        exportArgs(app, { customer_id: '1' }, db.url.connectionString(), capsule, ['--json']),
      );
      expect(exported.exitCode, exported.stderr).toBe(0);
      // The capsule's keys are the manifest's names as written; `user` holds the user rows, not current_user,
      // and init's redaction rule for it (table: "Sales Ops".user) applied: email hashed.
      const written = JSON.parse(await readFile(capsule, 'utf8')) as { tables: Record<string, unknown[]> };
      expect(written.tables['"Sales Ops".user']).toEqual([
        { id: 10, customer_id: 1, email: expect.stringMatching(/^replay-[0-9a-f]{12}$/) },
      ]);

      const source = await rowsOf(db);
      const expected = {
        // a parent no subject owns: its row comes from closure (init drafts it with where false)
        '"Sales Ops"."Price Plans"': [{ id: 7, Tier: 'gold' }],
        '"Sales Ops".customers': written.tables['"Sales Ops".customers'], // name hashed by init's rule
        '"Sales Ops".user': written.tables['"Sales Ops".user'],
        '"Sales Ops".order': source['"Sales Ops".order']!.slice(0, 2),
        '"Sales Ops"."Items"': source['"Sales Ops"."Items"']!.slice(0, 2),
        '"Sales Ops"."Deal Notes"': source['"Sales Ops"."Deal Notes"']!.slice(0, 2),
      };
      expect(expected['"Sales Ops".order']).toHaveLength(2);
      expect(expected['"Sales Ops"."Deal Notes"']).toEqual([
        { id: 1, item_id: 1000, Body: 'first' },
        { id: 2, item_id: 1001, Body: 'second' },
      ]);
      for (const [index, strategy] of ['copy', 'jsonb'].entries()) {
        const replay = replays[index]!;
        // Twice: the second load runs every deletePredicate (quoted names in init's nested subqueries).
        for (const round of [1, 2]) {
          const target = { app, capsule, url: replay.url.connectionString() };
          const loaded = await runLoadCommand('materialize-postgres', target, [
            '--load-strategy',
            strategy,
            '--json',
          ]);
          expect(loaded.exitCode, `${strategy} #${round}: ${loaded.stderr}`).toBe(0);
          expect(parseJsonOutput<{ verified: boolean }>(loaded.stdout).verified).toBe(true);
          expect(await rowsOf(replay)).toEqual(expected);
        }
      }
      for (const text of [init.stdout, doctor.stdout, exported.stdout, exported.stderr])
        expect(text).not.toContain(testerPassword());
    },
  );
});
