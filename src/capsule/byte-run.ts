/** Bytes appended into one buffer that grows by doubling (copied only when it must grow). */
export class ByteRun {
  #buffer: Buffer;
  #length = 0;

  constructor(capacity: number) {
    this.#buffer = Buffer.allocUnsafe(capacity);
  }

  get capacity(): number {
    return this.#buffer.length;
  }

  get length(): number {
    return this.#length;
  }

  /** Empties the run, keeping its buffer. */
  reset(): this {
    this.#length = 0;
    return this;
  }

  /** Drops the bytes after the first `length` (a row given up half-written). */
  truncate(length: number): void {
    this.#length = Math.min(this.#length, length);
  }

  put(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    if (bytes.length > 32) this.#buffer.set(bytes, this.#length);
    else for (let k = 0; k < bytes.length; k++) this.#buffer[this.#length + k] = bytes[k]!;
    this.#length += bytes.length;
  }

  /** Appends `text` as UTF-8. */
  putString(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2 units). A long text
    // is measured instead: room for 3× a row of tens of MB would be that much memory for nothing.
    const most = text.length * 3;
    this.#reserve(most <= 1 << 16 ? most : Buffer.byteLength(text));
    this.#length += this.#buffer.write(text, this.#length);
  }

  copyFrom(source: Buffer, from: number, to: number): void {
    this.#reserve(to - from);
    // Byte by byte when short: Buffer.copy makes a view of the source range on every call (~0.1 µs).
    if (to - from > 32) this.#length += source.copy(this.#buffer, this.#length, from, to);
    else for (let k = from; k < to; k++) this.#buffer[this.#length++] = source[k]!;
  }

  /** Appends bytes [from, to) of another run. */
  copyRun(run: ByteRun, from: number, to: number): void {
    this.copyFrom(run.#buffer, from, to);
  }

  putByte(byte: number): void {
    this.#reserve(1);
    this.#buffer[this.#length++] = byte;
  }

  bytes(): Buffer {
    return this.#buffer.subarray(0, this.#length);
  }

  /** Hands over the bytes (the run's buffer with them) and starts again in a new buffer of `capacity`. */
  take(capacity: number): Buffer {
    const taken = this.bytes();
    this.#buffer = Buffer.allocUnsafe(capacity);
    this.#length = 0;
    return taken;
  }

  #reserve(more: number): void {
    if (this.#length + more <= this.#buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.#buffer.length * 2, this.#length + more));
    this.#buffer.copy(grown, 0, 0, this.#length);
    this.#buffer = grown;
  }
}
