import type pg from 'pg';

import { startRecordingProxy } from '../../src/services/record.js';
import { proxyClient, seedTable, tableContents, tempDir } from '../integration/session/helpers.js';
import type { TestDatabase } from './database.js';

/**
 * Seeds `db` with the walkthrough's test_data table, runs `queries` through an in-process recording proxy
 * (pseudo user pseudo_user/pseudo-pw) in front of it, and returns the one session file it wrote.
 */
export async function recordSeededSession(
  db: TestDatabase,
  prefix: string,
  queries: (client: pg.Client) => Promise<void>,
): Promise<string> {
  await db.query(seedTable);
  const proxy = await startRecordingProxy({
    listen: '127.0.0.1:0',
    target: db.url,
    pseudoUsers: [{ name: 'pseudo_user', password: 'pseudo-pw' }],
    sessionsDir: await tempDir(prefix),
  });
  const client = await proxyClient(proxy.address.port);
  await queries(client);
  await client.end();
  await proxy.close();
  return proxy.sessionFiles()[0]!;
}

/** A sibling of `db` seeded as `db` was before recording (test_data), and its contents: the replay target. */
export async function seededTwin(db: TestDatabase): Promise<{ twin: TestDatabase; before: unknown[] }> {
  const twin = await db.sibling();
  await twin.query(seedTable);
  return { twin, before: await tableContents(twin) };
}
