/**
 * Per-address delay before answering a failed pseudo-user login, so passwords cannot be guessed at
 * network speed: 250 ms after the first failure, doubling up to 8 s, forgotten 10 minutes after the
 * last failure or on a successful login. Bounded: at most `maxAddresses` addresses are remembered.
 */
export class LoginThrottle {
  readonly #failures = new Map<string, { count: number; last: number }>();

  constructor(
    private readonly baseMs = 250,
    private readonly maxMs = 8_000,
    private readonly forgetMs = 600_000,
    private readonly maxAddresses = 10_000,
  ) {}

  /** Records a failure from `address` and returns how long to wait before answering it. */
  failed(address: string, now = Date.now()): number {
    const previous = this.#failures.get(address);
    const count = previous && now - previous.last < this.forgetMs ? previous.count + 1 : 1;
    this.#failures.delete(address);
    if (this.#failures.size >= this.maxAddresses) {
      const oldest = this.#failures.keys().next().value;
      if (oldest !== undefined) this.#failures.delete(oldest);
    }
    this.#failures.set(address, { count, last: now });
    return Math.min(this.maxMs, this.baseMs * 2 ** (count - 1));
  }

  succeeded(address: string): void {
    this.#failures.delete(address);
  }
}
