/**
 * Decoder for client→proxy Postgres messages (protocol 3.0). It frames the byte stream into messages,
 * keeping each message's raw bytes (the proxy forwards them unchanged), and parses the few bodies the
 * recorder needs (Query, Parse, Bind, Describe, Execute, Close, password). Every length and count is
 * checked against the buffer: malformed input throws ProtocolError, never reads out of bounds, and
 * never allocates more than the declared (capped) message size.
 */

export class ProtocolError extends Error {}

/** Postgres caps a message at 1 GB; anything above is garbage, not a big query. */
const maxMessageLength = 1 << 30;
/** Startup packets are small; Postgres itself refuses anything over 10000 bytes. */
const maxStartupLength = 10_000;
/** Before login only a password message may come; Postgres caps auth tokens at 65535 bytes. */
export const maxPreAuthMessageLength = 65_535;

const sslRequestCode = 80877103;
const gssEncRequestCode = 80877104;
const cancelRequestCode = 80877102;

export type StartupPacket =
  | { kind: 'startup'; parameters: Record<string, string>; raw: Buffer }
  | { kind: 'ssl-request'; raw: Buffer }
  | { kind: 'gssenc-request'; raw: Buffer }
  | { kind: 'cancel'; processId: number; secretKey: number; raw: Buffer };

export type FrontendMessage =
  | { type: 'query'; sql: string; raw: Buffer }
  | { type: 'parse'; statement: string; sql: string; paramTypes: number[]; raw: Buffer }
  | {
      type: 'bind';
      portal: string;
      statement: string;
      paramFormats: number[];
      params: (Buffer | null)[];
      resultFormats: number[];
      raw: Buffer;
    }
  | { type: 'describe'; target: 'S' | 'P'; name: string; raw: Buffer }
  | { type: 'execute'; portal: string; maxRows: number; raw: Buffer }
  | { type: 'close'; target: 'S' | 'P'; name: string; raw: Buffer }
  | { type: 'sync'; raw: Buffer }
  | { type: 'flush'; raw: Buffer }
  | { type: 'terminate'; raw: Buffer }
  | { type: 'password'; body: Buffer; raw: Buffer }
  /** CopyData/CopyDone/CopyFail, FunctionCall and anything newer: forwarded untouched. */
  | { type: 'other'; code: string; raw: Buffer }
  /**
   * A slice of a message over `streamedMessageLength`, passed on as it arrives instead of being held
   * whole: `raw` is the next bytes of it (the first part starts with the type byte and length).
   */
  | { type: 'part'; code: string; raw: Buffer; first: boolean; last: boolean; length: number };

/** Messages longer than this are streamed through in parts (Postgres accepts up to 1 GiB). */
export const streamedMessageLength = 8 * 1024 * 1024;

/** Bounds-checked reader over one message body. */
class BodyReader {
  #offset = 0;
  constructor(
    private readonly body: Buffer,
    private readonly decode: (bytes: Buffer) => string = (bytes) => bytes.toString('utf8'),
  ) {}

  int16(): number {
    this.need(2);
    const value = this.body.readInt16BE(this.#offset);
    this.#offset += 2;
    return value;
  }

  int32(): number {
    this.need(4);
    const value = this.body.readInt32BE(this.#offset);
    this.#offset += 4;
    return value;
  }

  byte(): string {
    this.need(1);
    return String.fromCharCode(this.body[this.#offset++]!);
  }

  cstring(): string {
    const end = this.body.indexOf(0, this.#offset);
    if (end < 0) throw new ProtocolError('unterminated string in message');
    const value = this.decode(this.body.subarray(this.#offset, end));
    this.#offset = end + 1;
    return value;
  }

  bytes(length: number): Buffer {
    this.need(length);
    const value = this.body.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return value;
  }

  count(): number {
    const value = this.int16();
    if (value < 0) throw new ProtocolError('negative count in message');
    return value;
  }

  private need(length: number): void {
    if (length < 0 || this.#offset + length > this.body.length) {
      throw new ProtocolError('message shorter than its contents');
    }
  }
}

/**
 * Incremental decoder: `push` bytes as they arrive, get back every complete message. The first
 * packets of a connection are untyped (SSLRequest/GSSENCRequest, then the startup packet).
 */
export class FrontendDecoder {
  #buffer: Buffer = Buffer.alloc(0);
  /** Chunks of a message still incomplete, joined once it is whole (joining per chunk is quadratic). */
  #parts: Buffer[] = [];
  #partsLength = 0;
  #needed = 0;
  #startup = true;
  /** The message being streamed: its type and how many of its bytes are still to come. */
  #streaming: { code: string; left: number; length: number } | undefined;
  /** The largest message accepted; the proxy lowers it until the client has logged in. */
  maxMessageLength = maxMessageLength;
  /** Decodes SQL text and names in the session's client_encoding (UTF-8 until the server says). */
  decodeText: (bytes: Buffer) => string = (bytes) => bytes.toString('utf8');

  push(chunk: Buffer): (StartupPacket | FrontendMessage)[] {
    const out: (StartupPacket | FrontendMessage)[] = [];
    if (this.#streaming) {
      const { code, length } = this.#streaming;
      const take = Math.min(chunk.length, this.#streaming.left);
      this.#streaming.left -= take;
      const last = this.#streaming.left === 0;
      out.push({ type: 'part', code, raw: chunk.subarray(0, take), first: false, last, length });
      if (!last) return out;
      this.#streaming = undefined;
      chunk = chunk.subarray(take);
      if (chunk.length === 0) return out;
    }
    if (this.#needed > 0) {
      this.#parts.push(chunk);
      this.#partsLength += chunk.length;
      if (this.#partsLength < this.#needed) return [];
      this.#buffer = Buffer.concat(this.#parts, this.#partsLength);
      this.#parts = [];
      this.#partsLength = 0;
      this.#needed = 0;
    } else {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    }
    for (;;) {
      const message = this.#startup ? this.#nextStartup() : this.#nextMessage();
      if (!message) break;
      out.push(message);
      if ('type' in message && message.type === 'part') break;
      // Only a startup packet ends the startup phase; SSL/GSS requests are followed by another packet.
      if ('kind' in message && message.kind === 'startup') this.#startup = false;
    }
    return out;
  }

  /** Bytes received but not yet forming a complete message. */
  get pending(): number {
    return this.#buffer.length + this.#partsLength;
  }

  /** Keeps an incomplete message of `total` bytes aside until all of it has arrived. */
  #wait(total: number): undefined {
    if (total > this.#buffer.length) {
      this.#parts = [this.#buffer];
      this.#partsLength = this.#buffer.length;
      this.#needed = total;
      this.#buffer = Buffer.alloc(0);
    }
    return undefined;
  }

  #nextStartup(): StartupPacket | undefined {
    if (this.#buffer.length < 4) return undefined;
    const length = this.#buffer.readInt32BE(0);
    if (length < 8 || length > maxStartupLength)
      throw new ProtocolError(`invalid startup packet length ${length}`);
    if (this.#buffer.length < length) return this.#wait(length);
    const raw = this.#take(length);
    const reader = new BodyReader(raw.subarray(4));
    const code = reader.int32();
    if (code === sslRequestCode) return { kind: 'ssl-request', raw };
    if (code === gssEncRequestCode) return { kind: 'gssenc-request', raw };
    if (code === cancelRequestCode) {
      return { kind: 'cancel', processId: reader.int32(), secretKey: reader.int32(), raw };
    }
    if (code >> 16 !== 3)
      throw new ProtocolError(`unsupported protocol version ${code >> 16}.${code & 0xffff}`);
    const parameters: Record<string, string> = {};
    for (;;) {
      const name = reader.cstring();
      if (name === '') break;
      parameters[name] = reader.cstring();
    }
    return { kind: 'startup', parameters, raw };
  }

  #nextMessage(): FrontendMessage | undefined {
    if (this.#buffer.length < 5) return undefined;
    const length = this.#buffer.readInt32BE(1);
    if (length < 4 || length > this.maxMessageLength)
      throw new ProtocolError(`invalid message length ${length}`);
    if (this.#buffer.length < length + 1) {
      if (length + 1 <= streamedMessageLength) return this.#wait(length + 1);
      // Too big to hold: pass on what is here, the rest as it comes.
      const raw = this.#take(this.#buffer.length);
      const code = String.fromCharCode(raw[0]!);
      this.#streaming = { code, left: length + 1 - raw.length, length: length + 1 };
      return { type: 'part', code, raw, first: true, last: false, length: length + 1 };
    }
    const raw = this.#take(length + 1);
    return decodeMessage(String.fromCharCode(raw[0]!), raw, this.decodeText);
  }

  #take(length: number): Buffer {
    const raw = this.#buffer.subarray(0, length);
    this.#buffer = this.#buffer.subarray(length);
    return raw;
  }
}

function decodeMessage(code: string, raw: Buffer, decode: (bytes: Buffer) => string): FrontendMessage {
  const reader = new BodyReader(raw.subarray(5), decode);
  switch (code) {
    case 'Q':
      return { type: 'query', sql: reader.cstring(), raw };
    case 'P': {
      const statement = reader.cstring();
      const sql = reader.cstring();
      const paramTypes = Array.from({ length: reader.count() }, () => reader.int32() >>> 0);
      return { type: 'parse', statement, sql, paramTypes, raw };
    }
    case 'B': {
      const portal = reader.cstring();
      const statement = reader.cstring();
      const paramFormats = Array.from({ length: reader.count() }, () => reader.int16());
      const params = Array.from({ length: reader.count() }, () => {
        const size = reader.int32();
        return size === -1 ? null : reader.bytes(size);
      });
      const resultFormats = Array.from({ length: reader.count() }, () => reader.int16());
      return { type: 'bind', portal, statement, paramFormats, params, resultFormats, raw };
    }
    case 'D':
    case 'C': {
      const target = reader.byte();
      if (target !== 'S' && target !== 'P') throw new ProtocolError(`invalid ${code} target "${target}"`);
      const name = reader.cstring();
      return { type: code === 'D' ? 'describe' : 'close', target, name, raw };
    }
    case 'E':
      return { type: 'execute', portal: reader.cstring(), maxRows: reader.int32(), raw };
    case 'S':
      return { type: 'sync', raw };
    case 'H':
      return { type: 'flush', raw };
    case 'X':
      return { type: 'terminate', raw };
    case 'p':
      return { type: 'password', body: raw.subarray(5), raw };
    default:
      return { type: 'other', code, raw };
  }
}

/** The format (0 text, 1 binary) of value `index` given a Bind-style format code list. */
export function formatAt(formats: number[], index: number): number {
  if (formats.length === 0) return 0;
  return formats.length === 1 ? formats[0]! : (formats[index] ?? 0);
}
