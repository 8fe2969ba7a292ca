import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { open } from 'node:fs/promises';

import type pg from 'pg';

import { Query } from '../postgres/pg.js';

/** The recorded data of one COPY FROM STDIN: a range of the session's side file. */
export interface CopySource {
  path: string;
  offset: number;
  bytes: number;
  digest: string;
  /** The client ended the recorded COPY with CopyFail: replay does the same. */
  failMessage?: string | undefined;
}

/** The parts of pg's Connection a COPY needs (not in its type declarations). */
interface CopyConnection {
  stream: NodeJS.WritableStream & { writableNeedDrain?: boolean };
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
  sync(): void;
}

/**
 * A node-postgres query that takes part in COPY: pg's own Query answers CopyInResponse with CopyFail and
 * drops COPY TO data. This one sends the recorded bytes (checked against their digest: a side file that
 * changed since recording fails the COPY instead of loading other data) and hands each COPY TO message
 * to `onCopyData`. In the extended protocol the Sync sent with the query is ignored during COPY, so
 * another one follows the data (as libpq does).
 */
export class CopyQuery extends Query {
  constructor(
    config: pg.QueryConfig,
    private readonly source: CopySource | undefined,
    private readonly onCopyData: (chunk: Buffer) => void,
  ) {
    super(config);
  }

  handleCopyInResponse(connection: CopyConnection): void {
    const extended = (this as unknown as { queryMode?: string }).queryMode === 'extended';
    const end = (failure: string | undefined): void => {
      if (failure === undefined) connection.endCopyFrom();
      else connection.sendCopyFail(failure);
      if (extended) connection.sync();
    };
    if (!this.source) return end('replay-env: no recorded COPY data');
    sendRecorded(connection, this.source).then(end, (error: Error) => end(`replay-env: ${error.message}`));
  }

  handleCopyData(message: { chunk: Buffer }): void {
    this.onCopyData(message.chunk);
  }
}

async function sendRecorded(connection: CopyConnection, source: CopySource): Promise<string | undefined> {
  const hash = createHash('sha256');
  const handle = await open(source.path, 'r');
  try {
    let position = source.offset;
    let left = source.bytes;
    while (left > 0) {
      const buffer = Buffer.allocUnsafe(Math.min(256 * 1024, left));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) throw new Error(`${source.path} is shorter than recorded`);
      const chunk = buffer.subarray(0, bytesRead);
      hash.update(chunk);
      connection.sendCopyFromChunk(chunk);
      position += bytesRead;
      left -= bytesRead;
      if (connection.stream.writableNeedDrain) await once(connection.stream, 'drain');
    }
  } finally {
    await handle.close();
  }
  if (`sha256:${hash.digest('hex')}` !== source.digest)
    throw new Error(`${source.path} changed since recording (digest differs)`);
  return source.failMessage;
}
