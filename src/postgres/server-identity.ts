import type pg from 'pg';

/**
 * Which database a connection reached, as the SERVER reports it (not as a URL spells it). Recorded in
 * the capsule header at export (`source.server`) and compared before materialize writes anything.
 */
export interface ServerIdentity {
  /**
   * pg_control_system().system_identifier: unique per cluster (initdb). null when the role may not read
   * it (it needs superuser or pg_monitor on most servers); the fallback below is then used.
   */
  systemIdentifier: string | null;
  /** pg_database.oid of the connected database: unique within a cluster. */
  databaseOid: string;
  databaseName: string;
  /** pg_postmaster_start_time() and the `port` setting: together they name one running server. */
  startedAt: string;
  port: string;
}

const identityQuery = `select (select oid::text from pg_database where datname = current_database()) as oid,
  current_database() as name,
  to_jsonb(pg_postmaster_start_time()) #>> '{}' as started,
  current_setting('port') as port`;

/** Reads the identity. Call outside a transaction: a refused pg_control_system() must not abort one. */
export async function identifyServer(client: pg.Client): Promise<ServerIdentity> {
  const row = (
    await client.query<{ oid: string; name: string; started: string; port: string }>(identityQuery)
  ).rows[0]!;
  let systemIdentifier: string | null = null;
  try {
    const control = await client.query<{ id: string }>(
      'select system_identifier::text as id from pg_control_system()',
    );
    systemIdentifier = control.rows[0]?.id ?? null;
  } catch {
    // permission denied: fall back to start time + port + oid
  }
  return {
    systemIdentifier,
    databaseOid: row.oid,
    databaseName: row.name,
    startedAt: row.started,
    port: row.port,
  };
}

/**
 * Whether two identities are the same database: by system identifier and oid when both have one; else
 * by the running server (start time and port) and oid. `undefined` when the server cannot tell (one side
 * lacks the identifier and the server restarted since): callers then rely on the connection parameters.
 */
export function sameDatabase(a: ServerIdentity, b: ServerIdentity): boolean | undefined {
  if (a.systemIdentifier && b.systemIdentifier) {
    return a.systemIdentifier === b.systemIdentifier && a.databaseOid === b.databaseOid;
  }
  if (a.startedAt === b.startedAt && a.port === b.port) return a.databaseOid === b.databaseOid;
  return undefined;
}

/** Reads a recorded identity from a capsule header; anything malformed counts as absent. */
export function recordedIdentity(value: unknown): ServerIdentity | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  const text = (key: string) => (typeof v[key] === 'string' ? (v[key] as string) : undefined);
  const oid = text('databaseOid');
  const startedAt = text('startedAt');
  const port = text('port');
  if (!oid || !startedAt || !port) return undefined;
  return {
    systemIdentifier: text('systemIdentifier') ?? null,
    databaseOid: oid,
    databaseName: text('databaseName') ?? '',
    startedAt,
    port,
  };
}
