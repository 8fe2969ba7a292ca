import { Writable } from 'node:stream';

/**
 * A Writable that passes chunks on to `sink` (with its backpressure) and never ends it: the table's
 * capsule stream receives several COPYs (own rows, then closure chunks) and is ended once, by the caller.
 * It finishes only when `sink` has processed every chunk it was given, so row counts read afterwards are
 * exact.
 */
export function forwardTo(sink: Writable): Writable {
  let inFlight = 0;
  let failed: Error | null | undefined;
  let onSettled: (() => void) | undefined;
  const processed = (error?: Error | null) => {
    inFlight -= 1;
    if (error) failed = error;
    if (inFlight === 0) onSettled?.();
  };
  // The sink's own 'error' (a row its framing refuses) is this stream's failure, not an uncaught event.
  const onSinkError = (error: Error) => {
    failed ??= error;
  };
  sink.on('error', onSinkError);
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (sink.destroyed || failed) {
        callback(failed ?? sink.errored ?? new Error('capsule table stream closed'));
        return;
      }
      inFlight += 1;
      if (sink.write(chunk, processed)) {
        callback();
        return;
      }
      const settle = (error?: Error | null) => {
        sink.off('drain', onDrain);
        sink.off('close', onClose);
        callback(error);
      };
      const onDrain = () => settle();
      const onClose = () => settle(sink.errored ?? new Error('capsule table stream closed'));
      sink.once('drain', onDrain);
      sink.once('close', onClose);
    },
    final(callback) {
      const done = () => {
        sink.off('error', onSinkError);
        callback(failed ?? null);
      };
      if (inFlight === 0) done();
      else onSettled = done;
    },
    destroy(error, callback) {
      sink.off('error', onSinkError);
      callback(error);
    },
  });
}
