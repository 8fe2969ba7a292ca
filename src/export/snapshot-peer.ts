import type pg from 'pg';

import { logger } from '../log.js';
import type { ParsedManifest, Subject } from '../manifest/index.js';
import { connect } from '../postgres/connect.js';
import type { DatabaseUrl } from '../postgres/database-url.js';
import { identifyServer, type ServerIdentity } from '../postgres/server-identity.js';
import { closeClient } from './close-client.js';
import { applySessionSettings, beginExportStatements, type ExportGraph } from './snapshot.js';

/** What pg_export_snapshot() returns, e.g. `00000003-0000001B-1`; anything else is not spliced into SQL. */
const snapshotIdPattern = /^[0-9A-F]+(-[0-9A-F]+)+$/i;

/**
 * The export transaction's snapshot id (pg_export_snapshot(), which writes nothing the database can see),
 * or undefined when the server refuses it (the export then runs on one connection). Runs as the
 * transaction's first statement (it cannot run inside a savepoint): after a refusal the transaction is
 * rolled back and opened afresh, before anything was read.
 */
export async function exportSnapshotId(
  client: pg.Client,
  begin: () => Promise<void>,
): Promise<string | undefined> {
  try {
    const { rows } = await client.query<{ id: string }>('select pg_export_snapshot() as id');
    const id = rows[0]?.id;
    if (id && snapshotIdPattern.test(id)) return id;
  } catch (error) {
    logger().info({ command: 'export', reason: (error as Error).message }, 'export: one connection');
  }
  await client.query('rollback');
  await begin();
  return undefined;
}

/**
 * What both connections run once the second one is open: their queries get no parallel workers. The two
 * connections already read two tables at once; each query's workers (up to max_parallel_workers_per_gather
 * processes more per connection, two by default) would make the export take up to six processes of the
 * production server instead of two, and on the benchmark's two cores they cost more than they saved:
 * server CPU 8.5–8.8 s against 7.8 s, the export 7.0–7.2 s against 6.7–6.8 s (docs/performance.md,
 * twenty-eighth session). On one connection PostgreSQL's own parallel plans are kept.
 */
export const twoConnectionStatements = ['set local max_parallel_workers_per_gather = 0'];

/** Runs twoConnectionStatements on `clients`, the export's two connections (read-only transactions open). */
export async function limitToTwoConnections(clients: readonly pg.Client[]): Promise<void> {
  for (const client of clients)
    for (const statement of twoConnectionStatements) await client.query(statement);
}

/** What the second connection's transaction runs first: the same read-only transaction, on the snapshot. */
export function peerBeginStatements(snapshotId: string): string[] {
  if (!snapshotIdPattern.test(snapshotId)) throw new Error(`not a snapshot id: ${snapshotId}`);
  const [begin, ...rest] = beginExportStatements;
  return [begin!, `set transaction snapshot '${snapshotId}'`, ...rest];
}

/**
 * A second connection for reading tables while another table streams (issue #16): the same URL and
 * session settings as the export's own (`default_transaction_read_only=on`), the same
 * `REPEATABLE READ, READ ONLY` transaction, importing the export's snapshot (`SET TRANSACTION
 * SNAPSHOT`) — so it sees exactly the rows the first one sees and can write nothing — and the same
 * `params`/`graph_keys` settings. It must be the same server (identity compared before the snapshot is
 * imported); undefined when it cannot be opened that way (the graph query failing included), and the
 * export carries on with one connection. Never rejects.
 *
 * `graph` may be a promise: the graph query then runs on the first connection while this one connects,
 * authenticates and takes the snapshot (the export's transaction, which exported it, is open meanwhile);
 * only the settings wait for it.
 */
export async function openSnapshotPeer(options: {
  url: DatabaseUrl;
  snapshotId: string;
  server: ServerIdentity;
  manifest: ParsedManifest;
  subject: Subject;
  graph: ExportGraph | Promise<ExportGraph>;
}): Promise<pg.Client | undefined> {
  let opened: pg.Client | undefined;
  const abandon = new AbortController();
  const opening = (async () => {
    const peer = await connect(options.url, {
      action: 'export',
      applicationName: 'replay-env export',
      readOnlySession: true,
      endWithClient: true,
      signal: abandon.signal,
    });
    opened = peer;
    abandon.signal.throwIfAborted();
    const server = await identifyServer(peer);
    if (JSON.stringify(server) !== JSON.stringify(options.server)) throw new Error('another server');
    for (const statement of peerBeginStatements(options.snapshotId)) await peer.query(statement);
    return peer;
  })();
  try {
    // A graph query that fails ends the wait at once: a server or pooler that accepts the connection and
    // does not answer held the export's own error for the connect timeout (red team, eleventh session).
    const peer = await Promise.race([opening, rejectedWith(options.graph)]);
    const graph = await options.graph;
    await applySessionSettings(peer, options.url, options.manifest, options.subject, graph);
    return peer;
  } catch (error) {
    // Still connecting: the attempt is abandoned (its socket destroyed) and waited for, so no connection
    // outlives this call; once connected, closing it ends whatever it is running.
    abandon.abort();
    if (!opened) await opening.catch(() => {});
    else opening.catch(() => {});
    if (opened) await closeClient(opened, true);
    logger().info({ command: 'export', reason: (error as Error).message }, 'export: one connection');
    return undefined;
  }
}

/** Rejects as `value` does; never settles if it resolves (a race's loser that only fails). */
function rejectedWith(value: unknown): Promise<never> {
  return Promise.resolve(value).then(() => new Promise<never>(() => {}));
}
