import pg from 'pg';
import { inject } from 'vitest';

import { type ParsedManifest, parseManifest } from '../../src/manifest/index.js';
import { DatabaseUrl } from '../../src/postgres/database-url.js';
import type { TestDatabase } from './database.js';

/**
 * A manifest loading `tables` in this order, every table scoped by the subject key `key` (default
 * `org_id`); `shared` tables are never deleted (upserted over).
 */
export function orgManifest(
  appId: string,
  tables: string[],
  shared: string[] = [],
  key = 'org_id',
): ParsedManifest {
  const postgres = {
    graphEdges: [],
    tableOrder: tables,
    tables: tables.map((name) =>
      shared.includes(name)
        ? { name, where: 'true' }
        : { name, where: `t.${key} = (select ${key} from params)`, deletePredicate: `t.${key} = g.${key}` },
    ),
  };
  return parseManifest(
    JSON.stringify({ appId, adapter: 'postgres-subject-graph.v1', subjectKeys: [key], postgres }),
    { file: `${appId}.json`, path: `/virtual/${appId}.json`, cwd: '/virtual' },
  );
}

/** Runs statements in `replay` as the server's superuser (role settings, event triggers). */
export async function asAdmin(replay: TestDatabase, statements: string[]): Promise<void> {
  const url = DatabaseUrl.parse(inject('adminDatabaseUrl')).withDatabase(replay.name);
  const admin = new pg.Client({ connectionString: url.connectionString() });
  await admin.connect();
  try {
    for (const statement of statements) await admin.query(statement);
  } finally {
    await admin.end();
  }
}
