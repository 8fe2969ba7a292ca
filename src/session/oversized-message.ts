import { createHash, type Hash } from 'node:crypto';

/** Bytes of an oversized message's body kept for the recording (its start: names, the SQL's beginning). */
export const keptPrefixBytes = 64 * 1024;

/** What the recording keeps of a message too big to hold (see FrontendDecoder's streaming). */
export interface OversizedMessage {
  code: string;
  /** The first bytes of the body (after type and length). */
  head: Buffer;
  /** Body length in bytes. */
  bytes: number;
  /** sha256:<hex> of the whole body. */
  digest: string;
}

/**
 * Follows one streamed message part by part, keeping its first `keptPrefixBytes` and hashing the rest,
 * so memory stays at the prefix whatever the message's size.
 */
export class OversizedMessageReader {
  readonly #hash: Hash = createHash('sha256');
  readonly #head: Buffer[] = [];
  #headLength = 0;
  #bytes = 0;

  constructor(readonly code: string) {}

  /** Adds body bytes (the caller strips the 5-byte header from the first part). */
  add(body: Buffer): void {
    this.#bytes += body.length;
    this.#hash.update(body);
    if (this.#headLength < keptPrefixBytes) {
      const kept = Buffer.from(body.subarray(0, keptPrefixBytes - this.#headLength));
      this.#head.push(kept);
      this.#headLength += kept.length;
    }
  }

  end(): OversizedMessage {
    return {
      code: this.code,
      head: Buffer.concat(this.#head, this.#headLength),
      bytes: this.#bytes,
      digest: `sha256:${this.#hash.digest('hex')}`,
    };
  }
}
