/**
 * Decoder for server→proxy messages, for recording only (the proxy forwards the server's bytes
 * unchanged). Unlike pg-protocol's parser it keeps DataRow values as the raw bytes the server sent —
 * binary-format columns must be decoded by type, and text in a non-UTF-8 client encoding must be
 * decoded in that encoding — and it skips the messages the recorder does not need without building
 * anything for them. Incomplete messages are joined once, not per chunk.
 */

export interface ColumnDescription {
  name: string;
  typeOid: number;
  /** 0 text, 1 binary. */
  format: number;
}

export type BackendEvent =
  | { name: 'parseComplete' | 'bindComplete' | 'closeComplete' | 'noData' | 'portalSuspended' | 'emptyQuery' }
  | { name: 'rowDescription'; fields: ColumnDescription[] }
  | { name: 'dataRow'; values: (Buffer | null)[] }
  | { name: 'commandComplete'; text: string }
  | { name: 'error'; code: string; message: string; severity: string }
  | { name: 'readyForQuery'; status: string }
  | { name: 'parameterStatus'; parameterName: string; parameterValue: string }
  | { name: 'copyInResponse' }
  /** `format`: 0 text, 1 binary (the overall format of COPY TO). */
  | { name: 'copyOutResponse'; format: number }
  /** One CopyData message of COPY TO (the server sends one per row). */
  | { name: 'copyData'; data: Buffer };

/** Turns bytes into text in the session's client encoding. */
export type TextDecoderFn = (bytes: Buffer) => string;

export class BackendDecoder {
  #buffer: Buffer = Buffer.alloc(0);
  #parts: Buffer[] = [];
  #partsLength = 0;
  #needed = 0;

  constructor(public decodeText: TextDecoderFn = (bytes) => bytes.toString('utf8')) {}

  /** Feeds one chunk; calls `onEvent` for each complete message the recorder cares about. */
  push(chunk: Buffer, onEvent: (event: BackendEvent) => void): void {
    if (this.#needed > 0) {
      this.#parts.push(chunk);
      this.#partsLength += chunk.length;
      if (this.#partsLength < this.#needed) return;
      this.#buffer = Buffer.concat(this.#parts, this.#partsLength);
      this.#parts = [];
      this.#partsLength = 0;
      this.#needed = 0;
    } else {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    }
    let offset = 0;
    const buffer = this.#buffer;
    while (buffer.length - offset >= 5) {
      const length = buffer.readInt32BE(offset + 1);
      if (length < 4) throw new Error(`invalid server message length ${length}`);
      if (buffer.length - offset < length + 1) break;
      const event = this.#decode(buffer[offset]!, buffer.subarray(offset + 5, offset + 1 + length));
      if (event) onEvent(event);
      offset += length + 1;
    }
    const rest = buffer.subarray(offset);
    if (rest.length >= 5 && rest.readInt32BE(1) + 1 > rest.length) {
      this.#parts = [rest];
      this.#partsLength = rest.length;
      this.#needed = rest.readInt32BE(1) + 1;
      this.#buffer = Buffer.alloc(0);
    } else {
      this.#buffer = rest.length > 0 ? Buffer.from(rest) : Buffer.alloc(0);
    }
  }

  #decode(code: number, body: Buffer): BackendEvent | undefined {
    switch (code) {
      case 0x44: {
        // 'D' DataRow: values stay views into the chunk; callers decode what they keep.
        const count = body.readInt16BE(0);
        const values: (Buffer | null)[] = new Array<Buffer | null>(count);
        let at = 2;
        for (let index = 0; index < count; index += 1) {
          const size = body.readInt32BE(at);
          at += 4;
          if (size < 0) values[index] = null;
          else {
            values[index] = body.subarray(at, at + size);
            at += size;
          }
        }
        return { name: 'dataRow', values };
      }
      case 0x54: {
        const count = body.readInt16BE(0);
        const fields: ColumnDescription[] = [];
        let at = 2;
        for (let index = 0; index < count; index += 1) {
          const end = body.indexOf(0, at);
          const name = this.decodeText(body.subarray(at, end));
          at = end + 1;
          fields.push({ name, typeOid: body.readUInt32BE(at + 6), format: body.readInt16BE(at + 16) });
          at += 18;
        }
        return { name: 'rowDescription', fields };
      }
      case 0x43:
        return { name: 'commandComplete', text: this.decodeText(body.subarray(0, body.indexOf(0))) };
      case 0x45:
        return this.#error(body);
      case 0x5a:
        return { name: 'readyForQuery', status: String.fromCharCode(body[0]!) };
      case 0x53: {
        const end = body.indexOf(0);
        return {
          name: 'parameterStatus',
          parameterName: body.toString('utf8', 0, end),
          parameterValue: body.toString('utf8', end + 1, body.indexOf(0, end + 1)),
        };
      }
      case 0x31:
        return { name: 'parseComplete' };
      case 0x32:
        return { name: 'bindComplete' };
      case 0x33:
        return { name: 'closeComplete' };
      case 0x6e:
        return { name: 'noData' };
      case 0x73:
        return { name: 'portalSuspended' };
      case 0x49:
        return { name: 'emptyQuery' };
      case 0x47:
        return { name: 'copyInResponse' };
      case 0x48:
        return { name: 'copyOutResponse', format: body[0] ?? 0 };
      case 0x64:
        return { name: 'copyData', data: body };
      default:
        return undefined;
    }
  }

  #error(body: Buffer): BackendEvent {
    const fields: Record<string, string> = {};
    let at = 0;
    while (at < body.length && body[at] !== 0) {
      const key = String.fromCharCode(body[at]!);
      const end = body.indexOf(0, at + 1);
      fields[key] = this.decodeText(body.subarray(at + 1, end));
      at = end + 1;
    }
    return {
      name: 'error',
      code: fields.C ?? '',
      message: fields.M ?? '',
      severity: fields.V ?? fields.S ?? 'ERROR',
    };
  }
}
