import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';

import { UsageError } from '../errors.js';
import type { RecordedRedactionRule } from '../generated/session.js';
import type { DatabaseUrl } from '../postgres/database-url.js';
import { registerSecret } from '../secrets.js';
import { type ProxyEvent, ProxySession } from '../session/proxy-session.js';
import { recoverJournals } from '../session/session-journal.js';

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
  onEvent?: (event: ProxyEvent) => void;
}

export interface RecordingProxy {
  address: { host: string; port: number };
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
    nextProcessId: () => (processId = processId >= 2 ** 31 - 2 ? 10_000 : processId + 1),
    onEvent: options.onEvent ?? (() => {}),
    onSessionFile: (file: string) => files.push(file),
  };
  const server: Server = createServer((socket) => {
    const session = new ProxySession(socket, context);
    sessions.add(session);
    void session.closed.then(() => sessions.delete(session));
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
    recovered,
    sessionFiles: () => [...files],
    async close() {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...sessions].map((session) => session.close()));
      await stopped;
    },
  };
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
  const proxy = await startRecordingProxy(options);
  options.onStarted?.(proxy);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await proxy.close();
  return {
    address: proxy.address,
    target: options.target.toString(),
    sessionsDir: options.sessionsDir,
    sessions: proxy.sessionFiles(),
    recovered: proxy.recovered,
  };
}
