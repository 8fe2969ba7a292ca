import { createHash } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';

import { serialize } from 'pg-protocol';
import type { BackendMessage } from 'pg-protocol/dist/messages.js';
import { Parser } from 'pg-protocol/dist/parser.js';

import type { DatabaseUrl } from '../postgres/database-url.js';
import { ScramClient } from './scram-client.js';

export interface UpstreamConnection {
  socket: Socket;
  /** ParameterStatus pairs the target sent during login, to relay to the client. */
  parameters: [string, string][];
  processId: number;
  secretKey: number;
}

/** The target refused the login or went away; `sqlState` when it sent an ErrorResponse. */
export class UpstreamLoginError extends Error {
  constructor(
    message: string,
    readonly sqlState: string | undefined,
  ) {
    super(message);
  }
}

/** Startup parameters a client may not choose: the proxy sets the real ones. */
const reservedParameters = new Set(['user', 'database', 'replication']);

/**
 * Opens a connection to the target and logs in with the real credentials (trust, cleartext, md5 or
 * SCRAM-SHA-256), passing through the client's other startup parameters (application_name,
 * client_encoding, options…). Resolves once the target is ready for queries.
 */
export async function connectUpstream(
  url: DatabaseUrl,
  clientParameters: Record<string, string>,
  timeoutMs = 10_000,
): Promise<UpstreamConnection> {
  const socket = openSocket(url);
  socket.setNoDelay(true);
  const parameters: Record<string, string> = { user: url.user, database: url.database };
  for (const [name, value] of Object.entries(clientParameters)) {
    if (!reservedParameters.has(name)) parameters[name] = value;
  }
  return await new Promise<UpstreamConnection>((resolve, reject) => {
    const parser = new Parser();
    const result: UpstreamConnection = { socket, parameters: [], processId: 0, secretKey: 0 };
    let scram: ScramClient | undefined;
    let settled = false;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      cleanup();
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(
      () => fail(new UpstreamLoginError('login to the target timed out', undefined)),
      timeoutMs,
    );
    const onError = (error: Error): void =>
      fail(
        new UpstreamLoginError(
          `cannot reach the target: ${(error as NodeJS.ErrnoException).code ?? error.message}`,
          undefined,
        ),
      );
    const onClose = (): void =>
      fail(new UpstreamLoginError('the target closed the connection during login', undefined));
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const handle = async (message: BackendMessage): Promise<void> => {
      const fields = message as unknown as Record<string, unknown>;
      switch (message.name) {
        case 'authenticationCleartextPassword':
          socket.write(serialize.password(url.password ?? ''));
          break;
        case 'authenticationMD5Password':
          socket.write(serialize.password(md5Password(url.user, url.password ?? '', fields.salt as Buffer)));
          break;
        case 'authenticationSASL': {
          const mechanisms = fields.mechanisms as string[];
          if (!mechanisms.includes('SCRAM-SHA-256')) {
            throw new UpstreamLoginError(`unsupported SASL mechanisms: ${mechanisms.join(', ')}`, undefined);
          }
          scram = new ScramClient(url.password ?? '');
          socket.write(serialize.sendSASLInitialResponseMessage('SCRAM-SHA-256', scram.first()));
          break;
        }
        case 'authenticationSASLContinue':
          if (!scram) throw new UpstreamLoginError('unexpected SASL continue from the target', undefined);
          socket.write(serialize.sendSCRAMClientFinalMessage(await scram.final(fields.data as string)));
          break;
        case 'authenticationSASLFinal':
          scram?.verify(fields.data as string);
          break;
        case 'parameterStatus':
          result.parameters.push([fields.parameterName as string, fields.parameterValue as string]);
          break;
        case 'backendKeyData':
          result.processId = fields.processID as number;
          result.secretKey = fields.secretKey as number;
          break;
        case 'error':
          throw new UpstreamLoginError(
            `the target refused the login: ${String(fields.message)}`,
            fields.code as string | undefined,
          );
        case 'readyForQuery':
          settled = true;
          cleanup();
          resolve(result);
          break;
        default:
          break;
      }
    };
    // SASL continue is async (PBKDF2); later messages must wait for it, so handling is chained.
    let chain = Promise.resolve();
    const onData = (chunk: Buffer): void => {
      parser.parse(chunk, (message) => {
        chain = chain
          .then(() => (settled ? undefined : handle(message)))
          .catch((error: Error) => fail(error));
      });
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.once('connect', () => socket.write(serialize.startup(parameters)));
  });
}

/** Sends a CancelRequest for the real backend (a fresh connection, as the protocol requires). */
export function sendCancel(url: DatabaseUrl, processId: number, secretKey: number): void {
  const socket = openSocket(url);
  socket.on('error', () => {});
  socket.once('connect', () => socket.end(serialize.cancel(processId, secretKey)));
}

function openSocket(url: DatabaseUrl): Socket {
  // A host starting with "/" is a unix-socket directory, as in libpq.
  return url.host.startsWith('/')
    ? netConnect(`${url.host}/.s.PGSQL.${url.port}`)
    : netConnect({ host: url.host, port: url.port });
}

function md5Password(user: string, password: string, salt: Buffer): string {
  const inner = createHash('md5')
    .update(password + user)
    .digest('hex');
  return `md5${createHash('md5')
    .update(Buffer.concat([Buffer.from(inner), salt]))
    .digest('hex')}`;
}
