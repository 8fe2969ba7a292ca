import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { beforeAll, describe, expect } from 'vitest';

import { loadManifest, type ParsedManifest } from '../../../src/manifest/index.js';
import { materialize } from '../../../src/services/materialize.js';
import { capsuleDir, dumpTables, lineCapsuleText, rowTexts, writeCapsuleFile } from '../../setup/capsules.js';
import { repoRoot } from '../../setup/cli.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';

const tables = ['tenants', 'users', 'tickets', 'comments', 'reactions', 'audit_events'];
let manifest: ParsedManifest;
let schemaSql: string;
let seedSql: string;
let dir: string;

beforeAll(async () => {
  manifest = await loadManifest(join(repoRoot, 'config/apps/teamdesk.yaml'));
  schemaSql = await readFile(join(repoRoot, 'config/apps/teamdesk/schema.sql'), 'utf8');
  seedSql = await readFile(join(repoRoot, 'config/apps/teamdesk/seed.sql'), 'utf8');
  dir = await capsuleDir();
});

/** A capsule of every acme row (the graph: every acme user), written from a seeded database. */
async function acmeCapsule(source: TestDatabase, name: string): Promise<string> {
  const users = await source.query<{ user_id: string }>(
    "select user_id from users where tenant_id = 'acme' order by user_id",
  );
  const capsuleTables: Record<string, string[]> = {};
  for (const table of tables) capsuleTables[table] = await rowTexts(source, table, "t.tenant_id = 'acme'");
  return writeCapsuleFile(
    dir,
    name,
    lineCapsuleText({
      app: 'teamdesk',
      subject: { tenant_id: 'acme', user_id: 'ada' },
      graph: users.map((user) => ({
        tenant_id: 'acme',
        user_id: user.user_id,
        reasons: [user.user_id === 'ada' ? 'subject' : 'requester_of_shared_ticket'],
      })),
      tables: capsuleTables,
    }),
  );
}

describe.each(['copy', 'jsonb'] as const)('teamdesk round trip (%s)', (loadStrategy) => {
  dbTest(
    'an empty schema receives every row type-faithfully; loading twice changes nothing',
    async ({ db }) => {
      await db.query(schemaSql);
      await db.query(seedSql);
      const capsule = await acmeCapsule(db, `teamdesk-${loadStrategy}.json`);
      const expected = await dumpTables(
        {
          query: (sql, values) =>
            db.query(sql.replace(/ t order by/, " t where t.tenant_id = 'acme' order by"), values),
        },
        tables,
      );
      const target = await db.sibling();
      await target.query(schemaSql);
      const result = await materialize({
        manifest,
        capsulePath: capsule,
        databaseUrl: target.url,
        loadStrategy,
        chunkSize: 3,
      });
      expect(result).toMatchObject({
        app: 'teamdesk',
        strategy: loadStrategy,
        verified: true,
        integrity: 'verified',
      });
      expect(result.loaded).toEqual(result.rowCounts);
      const loaded = await dumpTables(target, tables);
      expect(loaded).toEqual(expected);
      await materialize({ manifest, capsulePath: capsule, databaseUrl: target.url, loadStrategy });
      expect(await dumpTables(target, tables)).toEqual(loaded);
      // Identity sequences moved past the loaded ids: the app's next insert does not collide.
      await target.query(
        "insert into audit_events (tenant_id, actor_user_id, action, payload, occurred_at) values ('acme', 'ada', 'x', '{}', now())",
      );
    },
  );

  dbTest(
    'replaces the graph rows of a changed replay database and never touches another tenant',
    async ({ db }) => {
      await db.query(schemaSql);
      await db.query(seedSql);
      const capsule = await acmeCapsule(db, `teamdesk-changed-${loadStrategy}.json`);
      const expectedAcme = await rowTexts(db, 'tickets', "t.tenant_id = 'acme'");
      const target = await db.sibling();
      await target.query(schemaSql);
      await target.query(seedSql);
      const globexBefore = await dumpTables(
        {
          query: (sql, values) =>
            target.query(sql.replace(/ t order by/, " t where t.tenant_id = 'globex' order by"), values),
        },
        tables,
      );
      // Local drift: a ticket of ada's that is not in the capsule, an edited ticket, a removed reaction.
      await target.query(`update tickets set subject = 'edited locally' where tenant_id = 'acme'`);
      await target.query(
        `insert into tickets (id, tenant_id, requester_user_id, subject, status, priority, created_at, updated_at)
       values ('00000000-0000-4000-8000-00000000abcd', 'acme', 'ada', 'local only', 'open', 1, now(), now())`,
      );
      await target.query(`delete from reactions where tenant_id = 'acme'`);
      const result = await materialize({
        manifest,
        capsulePath: capsule,
        databaseUrl: target.url,
        loadStrategy,
      });
      expect(result.deleted.tickets).toBeGreaterThan(0);
      expect(await rowTexts(target, 'tickets', "t.tenant_id = 'acme'")).toEqual(expectedAcme);
      expect(await rowTexts(target, 'reactions', "t.tenant_id = 'acme'")).toEqual(
        await rowTexts(db, 'reactions', "t.tenant_id = 'acme'"),
      );
      const globexAfter = await dumpTables(
        {
          query: (sql, values) =>
            target.query(sql.replace(/ t order by/, " t where t.tenant_id = 'globex' order by"), values),
        },
        tables,
      );
      expect(globexAfter).toEqual(globexBefore);
    },
  );
});
