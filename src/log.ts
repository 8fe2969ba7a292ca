import { createRequire } from 'node:module';

import type { LogFn, Logger } from 'pino';

import { scrubSecrets } from './secrets.js';

export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

/** Paths pino must never print, even if a caller passes them in by mistake. */
const redactPaths = [
  'password',
  '*.password',
  'databaseUrl',
  '*.databaseUrl',
  'connectionString',
  '*.connectionString',
  'env',
  '*.env',
];

/** pino's level numbers ('silent' is above them all). */
const levelValues: Record<string, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
};

/** The logger's methods replay-env uses. */
export type Log = Pick<Logger, 'debug' | 'info' | 'warn' | 'error' | 'isLevelEnabled'>;

let current: Log | undefined;

/**
 * The process logger: JSON lines on stderr, so stdout stays a clean channel for results and `--json`.
 * pino itself (~20 modules, ~25 ms of start-up, issue #16) is required when the first line at an
 * enabled level is written, so a run at the default level that logs nothing never loads it.
 */
export function createLogger(level: LogLevel = 'warn'): Log {
  const threshold = levelValues[level] ?? Infinity;
  const isLevelEnabled = (name: string): boolean => {
    const value = levelValues[name];
    return value !== undefined && value >= threshold;
  };
  let pinoLogger: Logger | undefined;
  const method = (name: 'debug' | 'info' | 'warn' | 'error'): LogFn =>
    ((...args: unknown[]) => {
      if (!isLevelEnabled(name)) return;
      pinoLogger ??= createPinoLogger(level);
      (pinoLogger[name] as (...args: unknown[]) => void).apply(pinoLogger, args);
    }) as LogFn;
  current = {
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
    isLevelEnabled,
  };
  return current;
}

export function logger(): Log {
  return current ?? createLogger();
}

function createPinoLogger(level: LogLevel): Logger {
  const { pino } = createRequire(import.meta.url)('pino') as typeof import('pino');
  return pino(
    {
      level,
      redact: { paths: redactPaths, censor: '***' },
      base: undefined,
      hooks: {
        // Scrub registered secrets from messages as well as from structured fields above.
        logMethod(args, method) {
          method.apply(
            this,
            args.map((arg) => (typeof arg === 'string' ? scrubSecrets(arg) : arg)) as Parameters<
              typeof method
            >,
          );
        },
      },
    },
    pino.destination({ fd: 2, sync: true }),
  );
}
