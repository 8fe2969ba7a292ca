import type { EventEmitter } from 'node:events';
import type { Writable } from 'node:stream';

/**
 * Resolves at `stream`'s next 'drain' (after a write returned false); rejects with `toError(error)` on
 * an 'error' of `stream` or of any of `others` (e.g. the file behind a gzip stage) — so a writer waiting
 * for room learns of a failed disk instead of waiting forever.
 */
export function drainOrError(
  stream: Writable,
  toError: (error: Error) => Error,
  others: readonly EventEmitter[] = [],
): Promise<void> {
  const sources = [stream, ...others];
  return new Promise<void>((resolve, reject) => {
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onError = (error: Error) => {
      cleanup();
      reject(toError(error));
    };
    const cleanup = () => {
      stream.off('drain', onDrain);
      for (const source of sources) source.off('error', onError);
    };
    stream.on('drain', onDrain);
    for (const source of sources) source.on('error', onError);
  });
}
