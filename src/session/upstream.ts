import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

import { serialize } from 'pg-protocol';
import type { BackendMessage } from 'pg-protocol/dist/messages.js';
import { Parser } from 'pg-protocol/dist/parser.js';

import { openSocket } from '../postgres/cancel.js';
import type { DatabaseUrl } from '../postgres/database-url.js';
import { describeNegotiated, type NegotiatedTls, type TlsPlan, tlsPlan } from '../postgres/tls.js';
import { ScramClient } from './scram-client.js';

export interface UpstreamConnection {
  socket: Socket;
  /** ParameterStatus pairs the target sent during login, to relay to the client. */
  parameters: [string, string][];
  processId: number;
  secretKey: number;
  tls: NegotiatedTls;
}

/** Why a login to the target failed, for the console and `--json` events. */
export type UpstreamFailure =
  | 'unreachable'
  | 'timeout'
  | 'auth-failed'
  | 'refused'
  | 'tls-required'
  | 'tls-unavailable'
  | 'tls-failed'
  | 'closed';

/** The target refused the login or went away; `sqlState` when it sent an ErrorResponse. */
export class UpstreamLoginError extends Error {
  constructor(
    message: string,
    readonly sqlState: string | undefined,
    readonly kind: UpstreamFailure = 'refused',
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
  const plan = tlsPlan(url);
  // libpq: prefer tries TLS then plaintext (when the handshake itself fails), allow the other way round.
  const attempts: boolean[] =
    plan.mode === 'disable'
      ? [false]
      : plan.mode === 'allow'
        ? [false, true]
        : plan.mode === 'prefer'
          ? [true, false]
          : [true];
  let lastError: unknown;
  for (const [index, useTls] of attempts.entries()) {
    try {
      const socket = await openTransport(url, plan, useTls, timeoutMs);
      return await login(url, socket, plan, clientParameters, timeoutMs);
    } catch (error) {
      lastError = error;
      const kind = error instanceof UpstreamLoginError ? error.kind : 'refused';
      const retry =
        index + 1 < attempts.length &&
        (plan.mode === 'prefer' ? kind === 'tls-failed' : kind === 'refused' || kind === 'tls-required');
      if (!retry) break;
    }
  }
  throw lastError;
}

const sslRequest = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

/**
 * A connected socket to the target: plaintext, or after SSLRequest and the TLS handshake with the
 * plan's options. A server that answers "N" gets plaintext under prefer, an error under require+.
 */
async function openTransport(
  url: DatabaseUrl,
  plan: TlsPlan,
  useTls: boolean,
  timeoutMs: number,
): Promise<Socket> {
  const socket = openSocket(url);
  socket.setNoDelay(true);
  return await new Promise<Socket>((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new UpstreamLoginError('connecting to the target timed out', undefined, 'timeout')),
      timeoutMs,
    );
    let current: Socket = socket;
    const fail = (error: Error): void => {
      clearTimeout(timer);
      current.destroy();
      socket.destroy();
      reject(error);
    };
    socket.once('error', (error: NodeJS.ErrnoException) =>
      fail(
        new UpstreamLoginError(
          `cannot reach the target: ${error.code ?? error.message}`,
          undefined,
          'unreachable',
        ),
      ),
    );
    socket.once('connect', () => {
      if (!useTls) {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(socket);
        return;
      }
      socket.write(sslRequest);
      socket.once('data', (answer: Buffer) => {
        if (answer.length !== 1 || (answer[0] !== 0x53 && answer[0] !== 0x4e)) {
          fail(
            new UpstreamLoginError(
              'the target answered the TLS request with something else',
              undefined,
              'tls-failed',
            ),
          );
          return;
        }
        if (answer[0] === 0x4e) {
          if (plan.mode !== 'prefer' && plan.mode !== 'allow') {
            fail(
              new UpstreamLoginError(
                `the target does not offer TLS (sslmode=${plan.mode} requires it)`,
                undefined,
                'tls-unavailable',
              ),
            );
            return;
          }
          clearTimeout(timer);
          socket.removeAllListeners('error');
          resolve(socket);
          return;
        }
        const secure = tlsConnect({ ...plan.tls, socket });
        current = secure;
        secure.once('error', (error: Error) =>
          fail(
            new UpstreamLoginError(`TLS with the target failed: ${error.message}`, undefined, 'tls-failed'),
          ),
        );
        secure.once('secureConnect', () => {
          clearTimeout(timer);
          secure.removeAllListeners('error');
          socket.removeAllListeners('error');
          resolve(secure);
        });
      });
    });
  });
}

async function login(
  url: DatabaseUrl,
  socket: Socket,
  plan: TlsPlan,
  clientParameters: Record<string, string>,
  timeoutMs: number,
): Promise<UpstreamConnection> {
  const parameters: Record<string, string> = { user: url.user, database: url.database };
  for (const [name, value] of Object.entries(clientParameters)) {
    if (!reservedParameters.has(name)) parameters[name] = value;
  }
  return await new Promise<UpstreamConnection>((resolve, reject) => {
    const parser = new Parser();
    const result: UpstreamConnection = {
      socket,
      parameters: [],
      processId: 0,
      secretKey: 0,
      tls: describeNegotiated(plan, socket),
    };
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
      () => fail(new UpstreamLoginError('login to the target timed out', undefined, 'timeout')),
      timeoutMs,
    );
    const onError = (error: Error): void =>
      fail(
        new UpstreamLoginError(
          `connection to the target failed: ${(error as NodeJS.ErrnoException).code ?? error.message}`,
          undefined,
          'closed',
        ),
      );
    const onClose = (): void =>
      fail(new UpstreamLoginError('the target closed the connection during login', undefined, 'closed'));
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
          throw loginRefused(String(fields.message), fields.code as string | undefined);
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
    socket.write(startupPacket(parameters));
  });
}

/**
 * The startup packet with exactly the client's parameters. pg-protocol's serializer appends
 * `client_encoding=UTF8` after them, which overrode a client's own LATIN1 (the server takes the last).
 */
function startupPacket(parameters: Record<string, string>): Buffer {
  const body = Buffer.concat([
    ...Object.entries(parameters).flatMap(([name, value]) => [
      Buffer.from(`${name}\0`),
      Buffer.from(`${value}\0`),
    ]),
    Buffer.from([0]),
  ]);
  const head = Buffer.alloc(8);
  head.writeInt32BE(body.length + 8, 0);
  head.writeInt32BE(196_608, 4);
  return Buffer.concat([head, body]);
}

/** Classifies the target's ErrorResponse during login. */
function loginRefused(message: string, sqlState: string | undefined): UpstreamLoginError {
  const text = `the target refused the login: ${message}`;
  if (sqlState === '28P01') return new UpstreamLoginError(text, sqlState, 'auth-failed');
  // pg_hba.conf has only `hostssl` lines for us: "… no encryption".
  if (sqlState === '28000' && /no encryption|SSL off/i.test(message))
    return new UpstreamLoginError(text, sqlState, 'tls-required');
  return new UpstreamLoginError(text, sqlState, 'refused');
}

function md5Password(user: string, password: string, salt: Buffer): string {
  const inner = createHash('md5')
    .update(password + user)
    .digest('hex');
  return `md5${createHash('md5')
    .update(Buffer.concat([Buffer.from(inner), salt]))
    .digest('hex')}`;
}
