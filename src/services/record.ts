import { X509Certificate } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer, isIP, type Server } from 'node:net';
import { createSecureContext } from 'node:tls';

import { UsageError } from '../errors.js';
import type { RecordedRedactionRule } from '../generated/session.js';
import type { DatabaseUrl } from '../postgres/database-url.js';
import { registerSecret } from '../secrets.js';
import { LoginThrottle } from '../session/login-throttle.js';
import { type ProxyEvent, ProxySession, upstreamFailureText } from '../session/proxy-session.js';
import { selfSignedCertificate } from '../session/self-signed.js';
import { recoverJournals } from '../session/session-journal.js';
import { connectUpstream, type UpstreamFailure, UpstreamLoginError } from '../session/upstream.js';

export type { ProxyEvent } from '../session/proxy-session.js';

export interface PseudoUser {
  name: string;
  password: string;
}

export interface RecordingProxyOptions {
  /** `HOST:PORT` or `PORT`; host defaults to 127.0.0.1, port 0 picks a free one. */
  listen: string;
  target: DatabaseUrl;
  pseudoUsers: PseudoUser[];
  sessionsDir: string;
  /** Rules applied to recorded result columns (by column name). */
  redaction?: RecordedRedactionRule[];
  /**
   * TLS offered to clients: PEM files the user gives, a certificate generated for this run
   * ('self-signed', the default), or none ('off': SSLRequest answered "N").
   */
  clientTls?: { certFile: string; keyFile: string } | 'self-signed' | 'off';
  /** Time a client has to log in; default 60 s as Postgres' authentication_timeout. */
  authTimeoutMs?: number;
  /** Connections that have not logged in yet, at most; more are closed at once. Default 256. */
  maxPendingLogins?: number;
  /** Rows kept per recorded result (beyond: count + digest). Default 1000. */
  maxRecordedRows?: number;
  /** COPY FROM STDIN bytes kept per session (beyond: size + digest, replay refuses). Default 256 MiB. */
  maxCopyBytes?: number;
  /** Log in to the target once at startup to report TLS and problems early (default true). */
  checkTarget?: boolean;
  onEvent?: (event: ProxyEvent) => void;
}

/** What the startup login to the target found. */
export type TargetCheck =
  { ok: true; tls: string } | { ok: false; failure: UpstreamFailure; message: string; explanation: string };

export interface RecordingProxy {
  address: { host: string; port: number };
  /** The certificate clients get when they ask for TLS (SHA-256 fingerprint), if any. */
  clientTls: { source: 'given' | 'self-signed'; fingerprint256: string } | undefined;
  /** The startup login to the target, when it was made. */
  target: TargetCheck | undefined;
  /** Things the user must see (a listen address reachable from other machines). */
  warnings: string[];
  /** Session files finalized at startup from journals a killed proxy left behind. */
  recovered: string[];
  /** Session files written (or being written) by this proxy so far. */
  sessionFiles(): string[];
  /** Stops listening, ends every open session and waits until their files are written. */
  close(): Promise<void>;
}

/**
 * Starts the session-recording proxy (SPEC §7 `record`) in this process: a Postgres wire-protocol
 * server on `listen` that logs clients in as pseudo users, logs in to `target` with the real
 * credentials and records every session into `sessionsDir`. Leftover journals are finalized first.
 */
export async function startRecordingProxy(options: RecordingProxyOptions): Promise<RecordingProxy> {
  const { host, port } = parseListen(options.listen);
  if (options.pseudoUsers.length === 0)
    throw new UsageError('no pseudo user', 'pass --pseudo-user NAME:PASSWORD');
  for (const user of options.pseudoUsers) registerSecret(user.password);
  await mkdir(options.sessionsDir, { recursive: true, mode: 0o700 });
  const tls = await clientTlsContext(options.clientTls ?? 'self-signed');
  const warnings = isLoopback(host)
    ? []
    : [
        `listening on ${host}, which other machines can reach: anyone who can connect may try the pseudo passwords and, once in, runs SQL as ${options.target.user} on the target`,
      ];
  const target = options.checkTarget === false ? undefined : await checkTarget(options.target);
  const recovered = await recoverJournals(options.sessionsDir);
  const sessions = new Set<ProxySession>();
  const files: string[] = [];
  const cancelKeys = new Map<string, { processId: number; secretKey: number }>();
  let processId = 10_000;
  const context = {
    target: options.target,
    pseudoUsers: new Map(options.pseudoUsers.map((user) => [user.name, user.password])),
    sessionsDir: options.sessionsDir,
    redaction: options.redaction ?? [],
    cancelKeys,
    clientTls: tls?.context,
    authTimeoutMs: options.authTimeoutMs ?? 60_000,
    throttle: new LoginThrottle(),
    ...(options.maxRecordedRows ? { maxRecordedRows: options.maxRecordedRows } : {}),
    ...(options.maxCopyBytes !== undefined ? { maxCopyBytes: options.maxCopyBytes } : {}),
    nextProcessId: () => (processId = processId >= 2 ** 31 - 2 ? 10_000 : processId + 1),
    onEvent: options.onEvent ?? (() => {}),
    onSessionFile: (file: string) => files.push(file),
  };
  const maxPending = options.maxPendingLogins ?? 256;
  let pending = 0;
  const server: Server = createServer((socket) => {
    // Silent or slow clients may each hold a socket for the whole authentication timeout; cap them.
    if (pending >= maxPending) {
      socket.destroy();
      return;
    }
    pending += 1;
    let counted = true;
    const settle = (): void => {
      if (counted) pending -= 1;
      counted = false;
    };
    const session = new ProxySession(socket, {
      ...context,
      onEvent: (event) => {
        if (event.kind === 'upstream-connected' || event.kind === 'rejected' || event.kind === 'closed')
          settle();
        context.onEvent(event);
      },
    });
    sessions.add(session);
    void session.closed.then(() => {
      settle();
      sessions.delete(session);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new UsageError(`cannot listen on ${host}:${port}: ${error.code ?? error.message}`)),
    );
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  return {
    address: { host, port: typeof bound === 'object' && bound ? bound.port : port },
    clientTls: tls ? { source: tls.source, fingerprint256: tls.fingerprint256 } : undefined,
    target,
    warnings,
    recovered,
    sessionFiles: () => [...files],
    async close() {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...sessions].map((session) => session.close()));
      await stopped;
    },
  };
}

async function clientTlsContext(setting: NonNullable<RecordingProxyOptions['clientTls']>): Promise<
  | {
      context: ReturnType<typeof createSecureContext>;
      source: 'given' | 'self-signed';
      fingerprint256: string;
    }
  | undefined
> {
  if (setting === 'off') return undefined;
  if (setting === 'self-signed') {
    const generated = selfSignedCertificate();
    return {
      context: createSecureContext({ cert: generated.cert, key: generated.key }),
      source: 'self-signed',
      fingerprint256: generated.fingerprint256,
    };
  }
  const read = async (file: string, flag: string): Promise<Buffer> =>
    await readFile(file).catch(() => {
      throw new UsageError(`${flag} ${file}: cannot read it`);
    });
  const cert = await read(setting.certFile, '--tls-cert');
  const key = await read(setting.keyFile, '--tls-key');
  try {
    return {
      context: createSecureContext({ cert, key }),
      source: 'given',
      fingerprint256: new X509Certificate(cert).fingerprint256,
    };
  } catch (error) {
    throw new UsageError(
      `--tls-cert/--tls-key: not a usable certificate and key: ${(error as Error).message}`,
    );
  }
}

/** Logs in to the target once, as a session would, and reports what happened. */
async function checkTarget(url: DatabaseUrl): Promise<TargetCheck> {
  try {
    const upstream = await connectUpstream(url, { application_name: 'replay-env record (check)' });
    upstream.socket.end(Buffer.from([0x58, 0, 0, 0, 4]));
    return { ok: true, tls: upstream.tls.summary };
  } catch (error) {
    const failure = error instanceof UpstreamLoginError ? error.kind : 'refused';
    return {
      ok: false,
      failure,
      message: (error as Error).message,
      explanation: upstreamFailureText[failure],
    };
  }
}

function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** `HOST:PORT`, `[v6]:PORT` or `PORT`. */
export function parseListen(listen: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(listen.trim()) ?? /^()()(\d+)$/.exec(listen.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new UsageError(`invalid --listen "${listen}"`, 'expected HOST:PORT, e.g. 127.0.0.1:6543');
  }
  return { host: match[1] || match[2] || '127.0.0.1', port };
}

export interface RecordResult {
  address: { host: string; port: number };
  target: string;
  /** The startup login to the target (TLS negotiated, or why it failed). */
  targetCheck: TargetCheck | undefined;
  clientTls: RecordingProxy['clientTls'];
  warnings: string[];
  sessionsDir: string;
  /** Session files written while the proxy ran. */
  sessions: string[];
  /** Session files recovered at startup from journals of a killed proxy. */
  recovered: string[];
}

/**
 * `record` as a command runs it: starts the proxy, reports `onStarted`, and runs until SIGINT or
 * SIGTERM, then closes every session (writing its file) and returns what was recorded.
 */
export async function recordUntilStopped(
  options: RecordingProxyOptions & { onStarted?: (proxy: RecordingProxy) => void },
): Promise<RecordResult> {
  // Listen for the stop signal before the proxy starts: a supervisor that sends SIGTERM as soon as it
  // reads the banner must get a clean stop, not Node's default death by signal (CI caught that window).
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => {
    stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
  });
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  let proxy: RecordingProxy;
  try {
    proxy = await startRecordingProxy(options);
  } catch (error) {
    stop();
    throw error;
  }
  options.onStarted?.(proxy);
  await stopped;
  await proxy.close();
  return {
    address: proxy.address,
    target: options.target.toString(),
    targetCheck: proxy.target,
    clientTls: proxy.clientTls,
    warnings: proxy.warnings,
    sessionsDir: options.sessionsDir,
    sessions: proxy.sessionFiles(),
    recovered: proxy.recovered,
  };
}
