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
      let called = false;
      const done = () => {
        if (called) return;
        called = true;
        sink.off('error', onSinkError);
        sink.off('close', onClose);
        callback(failed ?? null);
      };
      // A sink destroyed with writes in flight may never call them back (a Transform holding one).
      const onClose = () => {
        failed ??= sink.errored ?? new Error('capsule table stream closed');
        done();
      };
      if (inFlight === 0) done();
      else if (sink.destroyed) onClose();
      else {
        onSettled = done;
        sink.once('close', onClose);
      }
    },
    destroy(error, callback) {
      sink.off('error', onSinkError);
      callback(error);
    },
  });
}
