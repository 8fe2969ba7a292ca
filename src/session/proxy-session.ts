import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import { type SecureContext, TLSSocket } from 'node:tls';

import type { RecordedRedactionRule } from '../generated/session.js';
import { sendCancel } from '../postgres/cancel.js';
import type { DatabaseUrl } from '../postgres/database-url.js';
import {
  authenticationCleartextPassword,
  authenticationOk,
  backendKeyData,
  errorResponse,
  parameterStatus,
  readyForQuery,
} from './backend-messages.js';
import {
  FrontendDecoder,
  type FrontendMessage,
  maxPreAuthMessageLength,
  type StartupPacket,
} from './frontend-decoder.js';
import type { LoginThrottle } from './login-throttle.js';
import { type RecorderEvent, SessionRecorder } from './session-recorder.js';
import {
  connectUpstream,
  type UpstreamConnection,
  type UpstreamFailure,
  UpstreamLoginError,
} from './upstream.js';

/** What the proxy reports while it runs; `record` renders these as the live console. */
export type ProxyEvent =
  | RecorderEvent
  | { kind: 'connection'; sessionId: string; remote: string }
  | { kind: 'login'; sessionId: string; pseudoUser: string; database: string }
  | {
      kind: 'rejected';
      sessionId: string;
      pseudoUser?: string;
      reason: string;
      /** Set when the target (not the pseudo login) failed: why. */
      upstream?: UpstreamFailure;
    }
  | { kind: 'client-tls'; sessionId: string; protocol: string }
  | { kind: 'mapped'; sessionId: string; pseudoUser: string; realUser: string; target: string }
  | { kind: 'upstream-connected'; sessionId: string; tls: string }
  | { kind: 'cancel'; sessionId: string; forwarded: boolean }
  | { kind: 'closed'; sessionId: string; file?: string; queries: number };

export interface ProxyContext {
  target: DatabaseUrl;
  /** Pseudo user name → pseudo password. */
  pseudoUsers: Map<string, string>;
  sessionsDir: string;
  redaction: RecordedRedactionRule[];
  /** Proxy-side cancel keys → the target's; shared by all sessions of one proxy. */
  cancelKeys: Map<string, { processId: number; secretKey: number }>;
  nextProcessId: () => number;
  /** Certificate and key offered to clients that ask for TLS; undefined: TLS refused ("N"). */
  clientTls: SecureContext | undefined;
  /** Time a client has to log in (Postgres: authentication_timeout, 60 s). */
  authTimeoutMs: number;
  throttle: LoginThrottle;
  /** Rows kept per recorded result; beyond it the count and a digest (default result-set.ts). */
  maxRecordedRows?: number;
  /** COPY FROM STDIN bytes kept per session (default copy-data-file.ts). */
  maxCopyBytes?: number;
  onEvent: (event: ProxyEvent) => void;
  onSessionFile: (file: string) => void;
}

let sessionCounter = 0;

/**
 * One client connection through the recording proxy: startup and pseudo-user login on the client side,
 * real login on the target side, then a byte-for-byte relay in both directions while a QueryTracker
 * pairs queries with results and the journal records them. Server bytes are parsed and journaled
 * synchronously before they are forwarded, so the client never sees a result that is not on disk.
 */
export class ProxySession {
  readonly id = `session_${Date.now()}${String((sessionCounter = (sessionCounter + 1) % 1_000_000)).padStart(6, '0')}`;
  readonly #decoder = new FrontendDecoder();
  #phase: 'startup' | 'password' | 'connecting' | 'relay' | 'closed' = 'startup';
  #pseudoUser = '';
  #startupParameters: Record<string, string> = {};
  #upstream: UpstreamConnection | undefined;
  #recorder: SessionRecorder | undefined;
  #cancelKey: string | undefined;
  /** Messages a pipelining client sent right after its password, before the target was ready. */
  #early: FrontendMessage[] = [];
  readonly #closed: Promise<void>;
  #resolveClosed!: () => void;
  /** The client's socket; replaced by its TLS wrapper after an accepted SSLRequest. */
  private client: Socket;
  readonly #address: string;
  #authTimer: NodeJS.Timeout | undefined;

  constructor(
    client: Socket,
    private readonly context: ProxyContext,
  ) {
    this.client = client;
    this.#address = client.remoteAddress ?? '?';
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.#decoder.maxMessageLength = maxPreAuthMessageLength;
    client.setNoDelay(true);
    context.onEvent({
      kind: 'connection',
      sessionId: this.id,
      remote: `${client.remoteAddress ?? '?'}:${client.remotePort ?? '?'}`,
    });
    this.#authTimer = setTimeout(() => {
      if (this.#phase === 'startup' || this.#phase === 'password') {
        this.#reject('08006', 'authentication timeout');
      }
    }, context.authTimeoutMs);
    this.#listen(client);
  }

  #listen(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => this.#onClientData(chunk));
    socket.on('error', () => void this.close());
    socket.on('close', () => void this.close());
  }

  /** Answers an SSLRequest: "S" and a TLS handshake when the proxy has a certificate, else "N". */
  #onSslRequest(moreInBatch: boolean): void {
    if (this.#phase !== 'startup') return this.#protocolError('unexpected SSLRequest');
    const tls = this.context.clientTls;
    if (!tls || this.client instanceof TLSSocket) {
      this.client.write('N');
      return;
    }
    // Bytes sent after SSLRequest before the handshake would be injected plaintext (CVE-2021-23222).
    if (moreInBatch || this.#decoder.pending > 0) return this.#protocolError('data after SSLRequest');
    const raw = this.client;
    raw.removeAllListeners('data');
    raw.removeAllListeners('close');
    raw.removeAllListeners('error');
    raw.on('error', () => void this.close());
    raw.write('S');
    const secure = new TLSSocket(raw, { isServer: true, secureContext: tls });
    this.client = secure;
    secure.once('secure', () =>
      this.context.onEvent({
        kind: 'client-tls',
        sessionId: this.id,
        protocol: secure.getProtocol() ?? 'TLS',
      }),
    );
    this.#listen(secure);
  }

  /** Resolves when the session has ended and its file is written. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  #onClientData(chunk: Buffer): void {
    let packets: (StartupPacket | FrontendMessage)[];
    try {
      packets = this.#decoder.push(chunk);
    } catch (error) {
      this.#protocolError((error as Error).message);
      return;
    }
    this.#relay(packets);
  }

  #relay(packets: (StartupPacket | FrontendMessage)[]): void {
    const forward: Buffer[] = [];
    for (const [index, packet] of packets.entries()) {
      if (this.#phase === 'closed') return;
      if ('kind' in packet && packet.kind === 'ssl-request') this.#onSslRequest(index < packets.length - 1);
      else if ('kind' in packet) this.#onStartupPacket(packet);
      else if (this.#phase === 'password') this.#onPassword(packet);
      else if (this.#phase === 'connecting') this.#early.push(packet);
      else if (this.#phase === 'relay') {
        try {
          this.#recorder!.frontend(packet);
        } catch (error) {
          // A bug in tracking must not break the client's session: keep relaying, stop recording detail.
          this.context.onEvent({
            kind: 'protocol-error',
            sessionId: this.id,
            message: (error as Error).message,
          });
        }
        forward.push(packet.raw);
      } else {
        this.#protocolError(`unexpected message "${packet.type}" during login`);
      }
    }
    if (forward.length > 0 && this.#upstream) {
      if (!this.#upstream.socket.write(forward.length === 1 ? forward[0]! : Buffer.concat(forward))) {
        this.client.pause();
        this.#upstream.socket.once('drain', () => this.client.resume());
      }
    }
  }

  #onStartupPacket(packet: StartupPacket): void {
    if (this.#phase !== 'startup') return this.#protocolError('unexpected startup packet');
    switch (packet.kind) {
      case 'ssl-request':
      case 'gssenc-request':
        // GSS encryption is not offered; clients then ask for TLS or continue in plain text.
        this.client.write('N');
        return;
      case 'cancel': {
        const real = this.context.cancelKeys.get(`${packet.processId}:${packet.secretKey}`);
        if (real) sendCancel(this.context.target, real.processId, real.secretKey);
        this.context.onEvent({ kind: 'cancel', sessionId: this.id, forwarded: Boolean(real) });
        this.client.end();
        return;
      }
      case 'startup': {
        this.#startupParameters = packet.parameters;
        this.#pseudoUser = packet.parameters.user ?? '';
        const database = packet.parameters.database ?? this.#pseudoUser;
        this.context.onEvent({ kind: 'login', sessionId: this.id, pseudoUser: this.#pseudoUser, database });
        if (packet.parameters.replication)
          return this.#reject('0A000', 'replication connections are not supported');
        if (!this.context.pseudoUsers.has(this.#pseudoUser)) {
          return this.#reject('28000', `role "${this.#pseudoUser}" is not a pseudo user of this proxy`);
        }
        this.#phase = 'password';
        this.client.write(authenticationCleartextPassword());
        return;
      }
    }
  }

  #onPassword(message: FrontendMessage): void {
    if (message.type !== 'password') return this.#protocolError('expected a password message');
    const given = message.body.subarray(0, Math.max(0, message.body.indexOf(0))).toString('utf8');
    if (!samePassword(given, this.context.pseudoUsers.get(this.#pseudoUser) ?? '')) {
      // Answer late, later with each failure from the same address: guessing stays slow.
      const delay = this.context.throttle.failed(this.#address);
      this.#phase = 'connecting';
      this.client.pause();
      setTimeout(
        () => this.#reject('28P01', `password authentication failed for user "${this.#pseudoUser}"`),
        delay,
      ).unref();
      return;
    }
    this.context.throttle.succeeded(this.#address);
    clearTimeout(this.#authTimer);
    this.#phase = 'connecting';
    this.client.pause();
    void this.#connectUpstream();
  }

  async #connectUpstream(): Promise<void> {
    const { target } = this.context;
    this.context.onEvent({
      kind: 'mapped',
      sessionId: this.id,
      pseudoUser: this.#pseudoUser,
      realUser: target.user,
      target: target.toString(),
    });
    try {
      this.#upstream = await connectUpstream(target, this.#startupParameters);
    } catch (error) {
      const failure = error instanceof UpstreamLoginError ? error.kind : 'refused';
      const code = error instanceof UpstreamLoginError && error.sqlState ? error.sqlState : '08006';
      // The target's own message may name the real user; the client gets the kind of failure only.
      return this.#reject(
        code,
        `replay-env proxy: cannot log in to the target database: ${upstreamFailureText[failure]} (see the proxy console)`,
        error,
        failure,
      );
    }
    if (this.#phase === 'closed') {
      this.#upstream.socket.destroy();
      return;
    }
    this.context.onEvent({ kind: 'upstream-connected', sessionId: this.id, tls: this.#upstream.tls.summary });
    this.#decoder.maxMessageLength = 1 << 30;
    this.#startRecording();
    const processId = this.context.nextProcessId();
    const secretKey = randomInt(1, 2 ** 31 - 1);
    this.#cancelKey = `${processId}:${secretKey}`;
    this.context.cancelKeys.set(this.#cancelKey, {
      processId: this.#upstream.processId,
      secretKey: this.#upstream.secretKey,
    });
    this.client.write(
      Buffer.concat([
        authenticationOk(),
        ...this.#upstream.parameters.map(([name, value]) => parameterStatus(name, value)),
        backendKeyData(processId, secretKey),
        readyForQuery('I'),
      ]),
    );
    this.#relayUpstream(this.#upstream);
    this.#phase = 'relay';
    this.#relay(this.#early.splice(0));
    this.client.resume();
  }

  #startRecording(): void {
    const { context } = this;
    this.#recorder = new SessionRecorder({
      sessionId: this.id,
      pseudoUser: this.#pseudoUser,
      target: context.target,
      sessionsDir: context.sessionsDir,
      redaction: context.redaction,
      ...(context.maxRecordedRows ? { maxRecordedRows: context.maxRecordedRows } : {}),
      ...(context.maxCopyBytes !== undefined ? { maxCopyBytes: context.maxCopyBytes } : {}),
      parameters: this.#upstream?.parameters ?? [],
      onEncoding: (decode) => (this.#decoder.decodeText = decode),
      onEvent: context.onEvent,
      onSessionFile: context.onSessionFile,
    });
  }

  #relayUpstream(upstream: UpstreamConnection): void {
    upstream.socket.on('data', (chunk: Buffer) => {
      try {
        // What this chunk answers is on disk before the client sees it.
        this.#recorder?.backend(chunk);
      } catch (error) {
        this.context.onEvent({
          kind: 'protocol-error',
          sessionId: this.id,
          message: (error as Error).message,
        });
      }
      if (!this.client.write(chunk)) {
        upstream.socket.pause();
        this.client.once('drain', () => upstream.socket.resume());
      }
    });
    upstream.socket.on('error', () => void this.close());
    upstream.socket.on('close', () => void this.close());
  }

  #reject(code: string, message: string, cause?: unknown, upstream?: UpstreamFailure): void {
    if (this.#phase === 'closed') return;
    this.context.onEvent({
      kind: 'rejected',
      sessionId: this.id,
      pseudoUser: this.#pseudoUser,
      reason: cause instanceof Error ? cause.message : message,
      ...(upstream ? { upstream } : {}),
    });
    this.client.end(errorResponse(code, message));
    void this.close();
  }

  #protocolError(message: string): void {
    this.context.onEvent({ kind: 'protocol-error', sessionId: this.id, message });
    if (this.client.writable) this.client.end(errorResponse('08P01', `invalid frontend message: ${message}`));
    this.client.destroySoon?.();
    void this.close();
  }

  /** Ends both sides and writes the session file (idempotent). */
  async close(): Promise<void> {
    if (this.#phase === 'closed') return this.#closed;
    this.#phase = 'closed';
    clearTimeout(this.#authTimer);
    if (this.#cancelKey) this.context.cancelKeys.delete(this.#cancelKey);
    this.#upstream?.socket.destroy();
    if (!this.client.destroyed) this.client.end();
    const file = await this.#recorder?.close();
    this.context.onEvent({
      kind: 'closed',
      sessionId: this.id,
      file,
      queries: this.#recorder?.queryCount ?? 0,
    });
    this.#resolveClosed();
  }
}

/** What the client is told when the target login fails (never the target's own words). */
export const upstreamFailureText: Record<UpstreamFailure, string> = {
  unreachable: 'the target is unreachable (connection refused or no route)',
  timeout: 'the target did not answer in time',
  'auth-failed': 'the target rejected the real credentials',
  refused: 'the target refused the login',
  'tls-required': 'the target requires TLS (add sslmode=require to the target URL)',
  'tls-unavailable': 'the target does not offer TLS but the target URL requires it',
  'tls-failed': 'the TLS handshake with the target failed',
  closed: 'the target closed the connection during login',
};

/** Compares digests so the comparison takes the same time whatever the input. */
function samePassword(given: string, expected: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected)) && expected.length > 0;
}
