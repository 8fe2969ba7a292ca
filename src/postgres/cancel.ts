import { connect as netConnect, type Socket } from 'node:net';

import type pg from 'pg';
import { serialize } from 'pg-protocol';

import type { DatabaseUrl } from './database-url.js';

/** Sends a CancelRequest for the real backend (a fresh connection, as the protocol requires). */
export function sendCancel(url: DatabaseUrl, processId: number, secretKey: number): void {
  const socket = openSocket(url);
  socket.on('error', () => {});
  socket.once('connect', () => socket.end(serialize.cancel(processId, secretKey)));
}

/** A plain connection to the server of `url` (TLS, when wanted, is negotiated on it). */
export function openSocket(url: DatabaseUrl): Socket {
  // A host starting with "/" is a unix-socket directory, as in libpq.
  return url.host.startsWith('/')
    ? netConnect(`${url.host}/.s.PGSQL.${url.port}`)
    : netConnect({ host: url.host, port: url.port });
}

/**
 * Cancels the statement `client` is running, if any (its backend key, which pg's Client keeps from
 * BackendKeyData but does not type). A no-op before the client has connected.
 */
export function cancelStatement(client: pg.Client, url: DatabaseUrl): void {
  const { processID, secretKey } = client as unknown as {
    processID: number | null;
    secretKey: number | null;
  };
  if (processID !== null && secretKey !== null) sendCancel(url, processID, secretKey);
}
