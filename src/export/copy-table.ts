import type { Writable } from 'node:stream';

import type pg from 'pg';

import { isReplayEnvError } from '../errors.js';
import type { DatabaseUrl } from '../postgres/database-url.js';
import { toDatabaseError } from '../postgres/errors.js';
import { copyOut } from './copy-out.js';

/**
 * Streams a table's binary `COPY … TO STDOUT` (export-sql.ts wrapInCopy) into `destination` as lines,
 * with backpressure end to end (copy-out.ts): the socket is only read as fast as the capsule file is
 * written. A SQL error mid-stream becomes a one-line DatabaseError showing the failing manifest
 * snippet's label.
 */
export async function copyTableTo(
  client: pg.Client,
  url: DatabaseUrl,
  copySql: string,
  destination: Writable,
  action: string,
  table: string,
): Promise<void> {
  try {
    // One column: the row's JSON text (export-sql.ts buildTableQuery).
    await copyOut(client, copySql, destination, { binaryLines: { columns: 1, table } });
  } catch (error) {
    if (isReplayEnvError(error)) throw error;
    throw toDatabaseError(error, { url, sql: copySql, action });
  }
}
