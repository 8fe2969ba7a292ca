import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { describe, expect, it } from 'vitest';

import { forwardTo } from './forward-stream.js';

describe('forwardTo', () => {
  it('passes every chunk on and leaves the sink open', async () => {
    const sink = new PassThrough();
    const got: Buffer[] = [];
    sink.on('data', (chunk: Buffer) => got.push(chunk));
    await pipeline(Readable.from([Buffer.from('a\n'), Buffer.from('b\n')]), forwardTo(sink));
    expect(Buffer.concat(got).toString()).toBe('a\nb\n');
    expect(sink.writableEnded).toBe(false);
  });

  // A full PassThrough holds the callback of the write it could not pass on; destroyed, it never calls it.
  it('fails, rather than waiting for ever, when a sink nobody reads is destroyed with writes in flight', async () => {
    // 100 bytes: more than the readable side holds (64), less than both sides: every write is accepted
    const sink = new PassThrough({ highWaterMark: 64 });
    const chunks = Array.from({ length: 10 }, (_, i) => Buffer.from(`row ${i}    \n`));
    const forwarding = pipeline(Readable.from(chunks), forwardTo(sink));
    await new Promise((resolve) => setTimeout(resolve, 20));
    sink.destroy(new Error('the table failed'));
    await expect(forwarding).rejects.toThrow(/the table failed/);
  }, 5_000);
});
