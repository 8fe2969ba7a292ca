import { type Logger, pino } from 'pino';

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

let current: Logger | undefined;

/** The process logger: JSON lines on stderr, so stdout stays a clean channel for results and `--json`. */
export function createLogger(level: LogLevel = 'warn'): Logger {
  current = pino(
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
  return current;
}

export function logger(): Logger {
  return current ?? createLogger();
}
