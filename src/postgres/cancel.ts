import { connect as netConnect, type Socket } from 'node:net';

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
