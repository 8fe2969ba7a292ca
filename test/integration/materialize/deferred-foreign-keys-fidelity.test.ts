import { expect } from 'vitest';

import { materialize } from '../../../src/services/materialize.js';
import { writeSubjectCapsule } from '../../setup/capsules.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';
import { asAdmin, orgManifest } from '../../setup/deferred-keys.js';
import { foreignKeyCatalog, rebuilt } from '../../setup/index-catalog.js';

/**
 * Deferred foreign-key checks (src/materialize/deferred-foreign-keys.ts) must neither fail a load the
 * per-row checks pass nor leave a key other than it was. Cases where adding a key again is not the key
 * as it was checked and stored: PostgreSQL's check of a key being added reads the referenced table
 * under its row-level security when the role owns it and it is FORCEd (the per-row checks never do); a
 * key added again from its definition uses the first unique index on its columns, which need not be
 * the one it used; a `session_replication_role = replica` session never runs the per-row checks; a
 * staging temp table created later shadows the referenced table's name. Each load below must pass and
 * leave the catalog as it was (what changes after a COPY: deferred-foreign-keys-later.test.ts).
 */
const manifest = orgManifest('fkfid', ['tickets']);

const tickets = [
  { id: 1, org_id: 'acme', category: 'bug' },
  { id: 2, org_id: 'acme', category: 'secret' },
];

/** Each key with the index it depends on (what `drop index` of the referenced table runs into). */
async function keyIndexes(db: TestDatabase): Promise<string[]> {
  const rows = await db.query<{ entry: string }>(
    `select conname || ' -> ' || conindid::regclass::text as entry from pg_constraint
      where contype = 'f' order by conname collate "C"`,
  );
  return rows.map((row) => row.entry);
}

async function load(
  db: TestDatabase,
  schema: string,
  keepForeignKeys: boolean,
  setup?: (replay: TestDatabase) => Promise<void>,
) {
  const replay = await db.sibling();
  await replay.query(schema);
  await setup?.(replay);
  const capsulePath = await writeSubjectCapsule('fkfid', { org_id: 'acme' }, { tickets });
  const before = { catalog: await foreignKeyCatalog(replay), indexes: await keyIndexes(replay) };
  const result = await materialize({ manifest, capsulePath, databaseUrl: replay.url, keepForeignKeys });
  return { replay, before, result };
}

dbTest(
  'a referenced table under forced row-level security: the load passes as with per-row checks',
  async ({ db }) => {
    // A multi-tenant lookup table the app role owns, its rows visible to one tenant at a time.
    const schema = `
    create table categories (code text primary key, tenant text not null);
    insert into categories values ('bug', 'acme'), ('secret', 'other');
    alter table categories enable row level security;
    alter table categories force row level security;
    create policy tenant on categories using (tenant = current_setting('app.tenant', true));
    create table tickets (id bigint primary key, org_id text not null,
      category text not null constraint tickets_category_fk references categories);`;
    const perRow = await load(db, schema, true);
    expect(perRow.result.verified).toBe(true);

    const { replay, before, result } = await load(db, schema, false);
    expect(result.verified).toBe(true);
    expect(result.directCopy).toEqual(['tickets']);
    expect(await foreignKeyCatalog(replay)).toEqual(before.catalog);
  },
);

dbTest('a key whose columns have two unique indexes keeps the index it used', async ({ db }) => {
  const schema = `
    create table categories (code text not null);
    create unique index categories_code_u on categories (code);
    alter table categories add primary key (code);
    insert into categories values ('bug'), ('secret');
    create table orgs (org_id text primary key);
    insert into orgs values ('acme');
    create table tickets (id bigint primary key, org_id text not null constraint tickets_org_fk references orgs,
      category text not null constraint tickets_category_fk references categories,
      other text constraint tickets_other_fk references categories (code));`;
  const { replay, before, result } = await load(db, schema, false);
  expect(result.verified).toBe(true);
  expect(before.indexes).toEqual([
    'tickets_category_fk -> categories_pkey',
    'tickets_org_fk -> orgs_pkey',
    'tickets_other_fk -> categories_code_u',
  ]);
  expect(await keyIndexes(replay)).toEqual(before.indexes);
  expect((await foreignKeyCatalog(replay)).keys).toEqual(before.catalog.keys);
  // Keys with a choice of index stay, checked row by row; the key to orgs (one unique index) is deferred.
  expect(rebuilt(before.catalog.oids, (await foreignKeyCatalog(replay)).oids)).toEqual(['tickets_org_fk']);
});

dbTest(
  'a replay database whose sessions skip foreign-key triggers (replica role): the load passes as before',
  async ({ db }) => {
    // session_replication_role = replica turns every foreign-key trigger off, so the per-row checks never
    // run; adding a key again checks every row regardless.
    const schema = `
    create table categories (code text primary key);
    insert into categories values ('bug');
    create table tickets (id bigint primary key, org_id text not null,
      category text not null constraint tickets_category_fk references categories);`;
    const replica = async (replay: TestDatabase) => {
      await asAdmin(replay, [
        `alter role replay_tester in database ${replay.name} set session_replication_role = replica`,
      ]);
    };
    const perRow = await load(db, schema, true, replica);
    expect(perRow.result.verified).toBe(true);

    const { replay, before, result } = await load(db, schema, false, replica);
    expect(result.verified).toBe(true);
    expect(result.directCopy).toEqual(['tickets']);
    expect(await foreignKeyCatalog(replay)).toEqual(before.catalog);
  },
);

dbTest('a key to a table named as the load names its staging tables: the load passes', async ({ db }) => {
  // The staging path's temp tables ("replay_stage_<n>", pg_temp) are searched before public: created
  // after tickets' keys were read, one named as the referenced table would take its place when they are
  // added again.
  const staged = orgManifest('fkshadow', ['tickets', 'notes'], ['tickets', 'notes']);
  const replay = await db.sibling();
  await replay.query(`
    create table replay_stage_1 (id bigint primary key);
    insert into replay_stage_1 values (1);
    create table tickets (id bigint primary key, org_id text not null,
      stage bigint constraint tickets_stage_fk references replay_stage_1);
    create table notes (id bigint primary key, org_id text not null);
    insert into notes values (1, 'acme');`);
  const capsulePath = await writeSubjectCapsule(
    'fkshadow',
    { org_id: 'acme' },
    { tickets: [{ id: 1, org_id: 'acme', stage: 1 }], notes: [{ id: 1, org_id: 'acme' }] },
  );
  const before = await foreignKeyCatalog(replay);
  const result = await materialize({ manifest: staged, capsulePath, databaseUrl: replay.url });
  expect(result.verified).toBe(true);
  expect(result.directCopy).toEqual(['tickets']);
  expect(await foreignKeyCatalog(replay)).toEqual(before);
});

dbTest('an event trigger that refuses DDL: the load passes, its keys checked in place', async ({ db }) => {
  const schema = `
    create table categories (code text primary key);
    insert into categories values ('bug'), ('secret');
    create table tickets (id bigint primary key, org_id text not null,
      category text not null constraint tickets_category_fk references categories);
    create index tickets_category on tickets (category);`;
  const refuseDdl = (replay: TestDatabase) =>
    asAdmin(replay, [
      `create function refuse_ddl() returns event_trigger language plpgsql as $$
         begin raise exception 'no DDL outside migrations'; end $$`,
      'create event trigger refuse_ddl on ddl_command_start execute function refuse_ddl()',
    ]);
  const { replay, before, result } = await load(db, schema, false, refuseDdl);
  expect(result.verified).toBe(true);
  expect(result.directCopy).toEqual(['tickets']);
  // The drop failed inside its savepoint: the same key, oid included.
  expect(await foreignKeyCatalog(replay)).toEqual(before.catalog);
});
