/** Captured output keeps at most this many bytes per stream (SPEC §6: stdout/stderr truncated to 16 KiB). */
export const outputLimitBytes = 16 * 1024;

/**
 * Collects a stream's output with flat memory: the first and the last half of the limit are kept (the head
 * shows how it started, the tail usually holds the error), with a marker saying how much was dropped.
 */
export class OutputCapture {
  readonly #half: number;
  readonly #head: Buffer[] = [];
  #headBytes = 0;
  #tail: Buffer[] = [];
  #tailBytes = 0;
  #total = 0;

  constructor(limit = outputLimitBytes) {
    this.#half = Math.floor(limit / 2);
  }

  push(chunk: Buffer | string): void {
    let data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.#total += data.length;
    if (this.#headBytes < this.#half) {
      const take = Math.min(this.#half - this.#headBytes, data.length);
      this.#head.push(data.subarray(0, take));
      this.#headBytes += take;
      data = data.subarray(take);
    }
    if (data.length === 0) return;
    this.#tail.push(data);
    this.#tailBytes += data.length;
    // Drop whole chunks from the front while the rest still covers the tail window.
    while (this.#tail.length > 1 && this.#tailBytes - this.#tail[0]!.length >= this.#half) {
      this.#tailBytes -= this.#tail.shift()!.length;
    }
  }

  get totalBytes(): number {
    return this.#total;
  }

  text(): string {
    const head = Buffer.concat(this.#head);
    const tailAll = Buffer.concat(this.#tail);
    if (this.#total <= this.#half * 2) return Buffer.concat([head, tailAll]).toString('utf8');
    const tail = tailAll.subarray(tailAll.length - this.#half);
    const dropped = this.#total - head.length - tail.length;
    return `${head.toString('utf8')}\n…[replay-env: ${dropped} bytes truncated]…\n${tail.toString('utf8')}`;
  }
}
