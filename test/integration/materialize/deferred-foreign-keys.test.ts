import pg from 'pg';
import { expect } from 'vitest';

import { materialize } from '../../../src/services/materialize.js';
import { dumpTables, writeSubjectCapsule } from '../../setup/capsules.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';
import { orgManifest } from '../../setup/deferred-keys.js';
import { foreignKeyCatalog, rebuilt } from '../../setup/index-catalog.js';

/**
 * Deferred foreign-key checks (src/materialize/deferred-foreign-keys.ts): a table copied straight into
 * while empty has its foreign keys dropped before its COPY and added again, checking every row, after
 * the last table. The catalog must be as before (definitions, deferrability, validation, comments, the
 * keys' triggers); only the re-added keys' oids change; a row without its parent fails the load with
 * the key's name and leaves everything as it was, oids included.
 */
const schema = `
create table categories (code text primary key);
insert into categories values ('bug'), ('idea');
create table orgs (org_id text primary key, name text not null);
create table users (org_id text not null, user_id bigint not null, manager_id bigint, primary key (org_id, user_id),
  constraint users_org_fk foreign key (org_id) references orgs on delete cascade deferrable initially deferred,
  constraint users_manager_fk foreign key (org_id, manager_id) references users);
create table tickets (id bigint primary key, org_id text not null, requester_id bigint not null,
  category text references categories, note_id bigint,
  constraint tickets_requester_fk foreign key (org_id, requester_id) references users match full on update cascade,
  constraint tickets_org_fk foreign key (org_id) references orgs);
comment on constraint tickets_org_fk on tickets is 'kept: it has a comment';
create table notes (id bigint primary key, org_id text not null, ticket_id bigint not null references tickets);
alter table tickets add constraint tickets_note_fk foreign key (note_id) references notes deferrable initially deferred;
create table audit (id bigint primary key, org_id text not null, user_id bigint not null);
alter table audit add constraint audit_user_fk foreign key (org_id, user_id) references users not valid;
-- off during the load and on again at its end, while tickets has checks pending (tickets_note_fk)
create function stamp() returns trigger language plpgsql as $$ begin return new; end $$;
create trigger stamp before update on tickets for each row execute function stamp();`;

const tables = ['orgs', 'users', 'tickets', 'notes', 'audit'];
const manifest = orgManifest('fks', tables);

const rows = {
  orgs: [{ name: 'Acme', org_id: 'acme' }],
  users: [
    { org_id: 'acme', user_id: 1, manager_id: null },
    { org_id: 'acme', user_id: 2, manager_id: 1 },
    { org_id: 'acme', user_id: 3, manager_id: 2 },
  ],
  tickets: [
    { id: 10, org_id: 'acme', note_id: 100, category: 'bug', requester_id: 2 },
    { id: 11, org_id: 'acme', note_id: null, category: null, requester_id: 3 },
  ],
  notes: [{ id: 100, org_id: 'acme', ticket_id: 10 }],
  audit: [{ id: 1, org_id: 'acme', user_id: 3 }],
};

/**
 * Validated keys between plain tables, no comment, the referenced table not loaded later. Not notes':
 * tickets has checks pending (its deferrable key to notes), and PostgreSQL refuses to drop a key's
 * triggers on a table with pending events, so notes' key stays, checked row by row.
 */
const deferred = ['tickets_category_fkey', 'tickets_requester_fk', 'users_manager_fk', 'users_org_fk'];

async function target(db: TestDatabase): Promise<TestDatabase> {
  const replay = await db.sibling();
  await replay.query(schema);
  return replay;
}

dbTest(
  'foreign keys of empty tables are added again after the load, the catalog as before',
  async ({ db }) => {
    const capsulePath = await writeSubjectCapsule('fks', { org_id: 'acme' }, rows);
    const replay = await target(db);
    const before = await foreignKeyCatalog(replay);
    const events: string[] = [];
    const load = () =>
      materialize({
        manifest,
        capsulePath,
        databaseUrl: replay.url,
        onProgress: (event) => events.push(`${event.phase}:${event.table ?? ''}`),
      });
    const first = await load();
    expect(first.verified).toBe(true);
    expect(first.directCopy).toEqual(tables);
    const after = await foreignKeyCatalog(replay);
    expect(after.keys).toEqual(before.keys);
    expect(rebuilt(before.oids, after.oids)).toEqual(deferred);
    expect(events.filter((event) => event.startsWith('foreignKeys:'))).toEqual([
      'foreignKeys:users',
      'foreignKeys:tickets',
    ]);
    expect(await dumpTables(replay, tables)).toEqual(
      Object.fromEntries(tables.map((name) => [name, expect.arrayContaining([])])),
    );
    expect((await dumpTables(replay, ['users'])).users).toHaveLength(3);
    // The re-added keys are enforced.
    await expect(replay.query(`insert into notes values (101, 'acme', 999)`)).rejects.toThrow(
      /violates foreign key constraint "notes_ticket_id_fkey"/,
    );
    await expect(replay.query(`insert into tickets values (12, 'acme', 99, null, null)`)).rejects.toThrow(
      /violates foreign key constraint "tickets_requester_fk"/,
    );

    // A reload deletes the graph's rows first: empty again, the same keys deferred.
    expect((await load()).verified).toBe(true);
    const reloaded = await foreignKeyCatalog(replay);
    expect(reloaded.keys).toEqual(before.keys);
    expect(rebuilt(after.oids, reloaded.oids)).toEqual(deferred);

    // The staging path defers nothing, and turns tickets' trigger back on while tickets' deferrable
    // key to notes may still have checks pending.
    const staged = await target(db);
    const stagedBefore = await foreignKeyCatalog(staged);
    const viaStaging = await materialize({
      manifest,
      capsulePath,
      databaseUrl: staged.url,
      directCopy: false,
    });
    expect(viaStaging.verified).toBe(true);
    expect(viaStaging.directCopy).toEqual([]);
    expect(await foreignKeyCatalog(staged)).toEqual(stagedBefore);
  },
);

dbTest(
  'a row without its parent fails the load naming the key; nothing changes, oids included',
  async ({ db }) => {
    const orphan = {
      ...rows,
      tickets: [
        ...rows.tickets,
        { id: 12, org_id: 'acme', note_id: null, category: 'nope', requester_id: 1 },
      ],
    };
    const capsulePath = await writeSubjectCapsule('fks', { org_id: 'acme' }, orphan);
    const replay = await target(db);
    const before = await foreignKeyCatalog(replay);
    // The same error as a per-row check: SQLSTATE, the key's name and the missing key.
    const sameError = {
      sqlState: '23503',
      message: expect.stringMatching(
        /violates foreign key constraint "tickets_category_fkey".*Key \(category\)=\(nope\) is not present/,
      ),
    };
    await expect(materialize({ manifest, capsulePath, databaseUrl: replay.url })).rejects.toMatchObject(
      sameError,
    );
    expect(await foreignKeyCatalog(replay)).toEqual(before);
    expect(await replay.query('select count(*)::int as n from users')).toEqual([{ n: 0 }]);

    // The same capsule with the keys checked row by row fails on the same key.
    await expect(
      materialize({ manifest, capsulePath, databaseUrl: replay.url, keepForeignKeys: true }),
    ).rejects.toMatchObject(sameError);
  },
);

dbTest(
  'kept in place: --keep-foreign-keys, a referenced table another session holds, triggers that fire',
  async ({ db }) => {
    const capsulePath = await writeSubjectCapsule('fks', { org_id: 'acme' }, rows);

    const kept = await target(db);
    const keptBefore = await foreignKeyCatalog(kept);
    expect(
      (await materialize({ manifest, capsulePath, databaseUrl: kept.url, keepForeignKeys: true })).verified,
    ).toBe(true);
    expect(await foreignKeyCatalog(kept)).toEqual(keptBefore);

    // Another session reading categories: tickets' keys (which lock it) stay; the load neither waits nor
    // fails.
    const busy = await target(db);
    const busyBefore = await foreignKeyCatalog(busy);
    const reader = new pg.Client({ connectionString: busy.url.connectionString() });
    await reader.connect();
    try {
      await reader.query('begin');
      await reader.query('select count(*) from categories');
      expect((await materialize({ manifest, capsulePath, databaseUrl: busy.url })).verified).toBe(true);
      await reader.query('rollback');
    } finally {
      await reader.end();
    }
    expect(rebuilt(busyBefore.oids, (await foreignKeyCatalog(busy)).oids)).toEqual([
      'users_manager_fk',
      'users_org_fk',
    ]);

    // A user trigger that fires during the load (--keep-triggers) could change referenced rows later.
    const firing = await target(db);
    await firing.query(`create function touch() returns trigger language plpgsql as $$ begin return new; end $$;
    create trigger touch before insert on audit for each row execute function touch();`);
    const firingBefore = await foreignKeyCatalog(firing);
    const result = await materialize({ manifest, capsulePath, databaseUrl: firing.url, keepTriggers: true });
    expect(result.verified).toBe(true);
    expect(result.triggers.firing).toEqual(['audit', 'tickets']);
    expect(await foreignKeyCatalog(firing)).toEqual(firingBefore);
  },
);
