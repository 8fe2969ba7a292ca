import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { basename } from 'node:path';

import type { CopyIn } from '../generated/session.js';

/** COPY FROM STDIN bytes recorded per session by default; beyond it only the size and digest are kept. */
export const defaultMaxCopyBytes = 256 * 1024 * 1024;
/** Copied bytes are written in batches of this size (clients send one CopyData message per row). */
const batchBytes = 256 * 1024;

/** The side file of a session: `<session>.json` → `<session>.json.copy` (the journal's name without `.journal`). */
export function copyFileFor(sessionPath: string): string {
  return `${sessionPath.replace(/\.journal$/, '')}.copy`;
}

/**
 * The data clients sent with COPY FROM STDIN in one session, appended to one side file (created on the
 * first COPY, mode 0600). Each COPY is a range of it: its query_result says where (`copy_in`). Memory is
 * one batch; the file holds at most `maxBytes` per session: a COPY that does not fit keeps what fitted,
 * and its size and SHA-256 of all the bytes are recorded, with `truncated`, so replay can refuse it.
 */
export class CopyDataFile {
  readonly path: string;
  #fd: number | undefined;
  #written = 0;
  #batch: Buffer[] = [];
  #batchLength = 0;

  constructor(
    sessionPath: string,
    private readonly maxBytes: number = defaultMaxCopyBytes,
  ) {
    this.path = copyFileFor(sessionPath);
  }

  /** Starts recording one COPY's data. */
  begin(): CopyCapture {
    return new CopyCapture(this, this.#written + this.#batchLength);
  }

  /** Takes what still fits in the budget; returns how many bytes were kept. */
  keep(bytes: Buffer): number {
    const room = this.maxBytes - (this.#written + this.#batchLength);
    if (room <= 0) return 0;
    const kept = bytes.length <= room ? bytes : bytes.subarray(0, room);
    // The chunk is a view into a socket buffer the proxy forwards; copy it to keep it past this turn.
    this.#batch.push(Buffer.from(kept));
    this.#batchLength += kept.length;
    if (this.#batchLength >= batchBytes) this.flush();
    return kept.length;
  }

  /** Writes the pending batch (before the COPY's result is journaled: nothing answered is lost). */
  flush(): void {
    if (this.#batchLength === 0) return;
    this.#fd ??= openSync(this.path, 'a', 0o600);
    const data = this.#batch.length === 1 ? this.#batch[0]! : Buffer.concat(this.#batch, this.#batchLength);
    let offset = 0;
    while (offset < data.length) offset += writeSync(this.#fd, data, offset);
    this.#written += data.length;
    this.#batch = [];
    this.#batchLength = 0;
  }

  close(): void {
    this.flush();
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

/** One COPY FROM STDIN being recorded: every byte is counted and hashed, the budget decides what is kept. */
export class CopyCapture {
  #bytes = 0;
  #kept = 0;
  readonly #hash: Hash = createHash('sha256');
  #failed: string | undefined;

  constructor(
    private readonly file: CopyDataFile,
    private readonly offset: number,
  ) {}

  data(bytes: Buffer): void {
    this.#bytes += bytes.length;
    this.#hash.update(bytes);
    // Once a byte did not fit, later ones must not either (the range would have a hole).
    if (this.#kept === this.#bytes - bytes.length) this.#kept += this.file.keep(bytes);
  }

  /** The client ended the COPY with CopyFail and this message. */
  fail(message: string): void {
    this.#failed = message;
  }

  end(): CopyIn {
    this.file.flush();
    return {
      file: basename(this.file.path),
      offset: this.offset,
      bytes: this.#bytes,
      digest: `sha256:${this.#hash.digest('hex')}`,
      ...(this.#kept < this.#bytes ? { truncated: true, recorded_bytes: this.#kept } : {}),
      ...(this.#failed !== undefined ? { client_failed: this.#failed } : {}),
    };
  }
}
