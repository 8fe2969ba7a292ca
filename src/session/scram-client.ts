import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/**
 * Client side of SCRAM-SHA-256 (RFC 5802/7677) as Postgres uses it: no channel binding (`n,,`), the user
 * name left empty (`n=*`, Postgres takes the startup user). Usage: `first()` → SASLInitialResponse data,
 * `final(serverFirst)` → SASLResponse data, `verify(serverFinal)` checks the server knew the password.
 */
export class ScramClient {
  readonly #password: string;
  readonly #nonce: string;
  #serverSignature: Buffer | undefined;

  constructor(password: string, nonce = randomBytes(18).toString('base64')) {
    // SASLprep is skipped: Postgres itself falls back to the raw bytes when a password is not valid
    // SASLprep input, and for ASCII passwords both are the same.
    this.#password = password;
    this.#nonce = nonce;
  }

  first(): string {
    return `n,,${this.#firstBare()}`;
  }

  async final(serverFirst: string): Promise<string> {
    const attributes = parseAttributes(serverFirst);
    const nonce = attributes.get('r');
    const salt = attributes.get('s');
    const iterations = Number(attributes.get('i'));
    if (!nonce || !nonce.startsWith(this.#nonce) || nonce.length === this.#nonce.length) {
      throw new Error('SCRAM: server nonce does not extend the client nonce');
    }
    if (!salt || !Number.isInteger(iterations) || iterations < 1) {
      throw new Error('SCRAM: malformed server-first-message');
    }
    const salted = await pbkdf2Async(this.#password, Buffer.from(salt, 'base64'), iterations, 32, 'sha256');
    const clientKey = hmac(salted, 'Client Key');
    const storedKey = createHash('sha256').update(clientKey).digest();
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.#firstBare()},${serverFirst},${withoutProof}`;
    const clientSignature = hmac(storedKey, authMessage);
    const proof = Buffer.from(clientKey.map((byte, index) => byte ^ clientSignature[index]!));
    this.#serverSignature = hmac(hmac(salted, 'Server Key'), authMessage);
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  verify(serverFinal: string): void {
    const signature = parseAttributes(serverFinal).get('v');
    const expected = this.#serverSignature;
    const actual = signature ? Buffer.from(signature, 'base64') : Buffer.alloc(0);
    if (!expected || actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
      throw new Error('SCRAM: server signature does not match');
    }
  }

  #firstBare(): string {
    return `n=*,r=${this.#nonce}`;
  }
}

function hmac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text).digest();
}

function parseAttributes(text: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const part of text.split(',')) {
    const equals = part.indexOf('=');
    if (equals > 0) attributes.set(part.slice(0, equals), part.slice(equals + 1));
  }
  return attributes;
}
