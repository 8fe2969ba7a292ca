import type { Writable } from 'node:stream';

import type pg from 'pg';

import { BinaryCopyLines } from './binary-lines.js';

/** Backend messages of a COPY OUT (PostgreSQL protocol, "Message Formats"). */
const copyData = 0x64; // d
const copyDone = 0x63; // c
const passedOver = new Set([
  0x48, // H CopyOutResponse
  0x4e, // N NoticeResponse
  0x53, // S ParameterStatus
  0x41, // A NotificationResponse
]);
const errorResponse = 0x45; // E
const headerBytes = 5;

/** The parts of pg's Connection a COPY OUT reader needs. */
interface CopyConnection {
  stream: NodeJS.ReadableStream & { destroy(): void };
  query(text: string): void;
}

type DataListener = (chunk: Buffer) => void;

/**
 * Runs `COPY … TO STDOUT` on `client` and writes the rows' bytes into `destination`, ending it; resolves
 * once `destination` has finished and the server has said the COPY is complete (ReadyForQuery).
 *
 * Hooks into pg as pg-copy-streams' copyTo does (a Submittable that takes over the connection's socket
 * from pg's message parser until CopyDone, then hands the rest back), with fewer copies and no Readable
 * in between: the CopyData payloads of one socket read go to `destination` as one buffer, made in place
 * by moving each payload over the message headers before it (the read is this reader's alone: no
 * allocation, no Buffer per message). Backpressure: the socket is paused while `destination` is full, so
 * PostgreSQL is only read as fast as the rows are written.
 *
 * Failures reject and destroy `destination`: an ErrorResponse (handed to pg, which parses it: the
 * rejection is pg's DatabaseError, and the client stays usable), a lost or destroyed connection (pg's
 * "Connection terminated"), an error of `destination` itself (then the socket stays paused mid-COPY: the
 * caller closes the client, close-client.ts).
 *
 * `binaryLines`: the COPY is binary with `columns` text columns (export-sql.ts wrapInCopy) of manifest
 * table `table`, and `destination` gets its rows as lines, `column 0x02 column … \n` (binary-lines.ts);
 * output that is not such a COPY, has rows of another width, or ends without its trailer, fails.
 */
export function copyOut(
  client: pg.Client,
  sql: string,
  destination: Writable,
  { binaryLines }: { binaryLines?: { columns: number; table: string } } = {},
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // A binary COPY's rows become lines as they are moved (binary-lines.ts).
    const lines = binaryLines ? new BinaryCopyLines(binaryLines) : undefined;
    let settled = false;
    let connection: CopyConnection | undefined;
    let pgListener: DataListener | undefined;
    let attached = false;
    let copied = false; // CopyDone seen and destination ended
    let finished = false;
    let ready = false;
    // Message being read: its type and the bytes of it still to come; a header split across reads.
    let type = 0;
    let left = 0;
    let carry: Buffer | undefined;

    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      if (attached) stopReading();
      destination.destroy(error);
      reject(error);
    };
    const succeedWhenDone = () => {
      if (settled || !finished || !ready) return;
      settled = true;
      destination.off('error', fail);
      resolve();
    };
    destination.on('error', fail);

    // Mid-COPY the rest of the stream is no protocol pg's parser could take up: the socket stays paused
    // (the caller closes the client) or is already dead.
    const stopReading = () => {
      attached = false;
      connection!.stream.off('data', onData);
      connection!.stream.pause();
      destination.off('drain', resume);
    };
    const detach = () => {
      stopReading();
      connection!.stream.on('data', pgListener!);
      connection!.stream.resume();
    };
    const resume = () => {
      if (attached) connection!.stream.resume();
    };
    /** Gives the rest of the read (from the message at `at` on) back to pg's parser. */
    const handBack = (chunk: Buffer, at: number) => {
      detach();
      if (at < chunk.length) pgListener!(chunk.subarray(at));
    };

    const onData: DataListener = (read) => {
      const chunk = carry ? Buffer.concat([carry, read]) : read;
      carry = undefined;
      // The payloads read so far are chunk[0, kept): each is moved down over the headers before it.
      let kept = 0;
      let at = 0;
      let done = false;
      while (at < chunk.length) {
        if (left === 0) {
          const next = chunk[at]!;
          if (next === errorResponse) {
            // pg parses it (a DatabaseError with its fields), calls handleError and reads on.
            write(chunk, kept);
            handBack(chunk, at);
            return;
          }
          if (next !== copyData && next !== copyDone && !passedOver.has(next)) {
            fail(new Error(`unexpected message ${String.fromCharCode(next)} during COPY TO STDOUT`));
            connection!.stream.destroy();
            return;
          }
          if (chunk.length - at < headerBytes) {
            carry = Buffer.from(chunk.subarray(at));
            break;
          }
          type = next;
          left = chunk.readUInt32BE(at + 1) - 4;
          at += headerBytes;
        }
        const end = Math.min(chunk.length, at + left);
        if (type === copyData && end > at) {
          if (lines) {
            try {
              kept = lines.convert(chunk, at, end, kept);
            } catch (error) {
              fail(error as Error);
              connection!.stream.destroy();
              return;
            }
          } else {
            if (kept !== at) chunk.copyWithin(kept, at, end);
            kept += end - at;
          }
        }
        left -= end - at;
        at = end;
        if (left === 0 && type === copyDone) {
          done = true;
          break;
        }
      }
      write(chunk, kept);
      if (!done) return;
      if (lines && !lines.ended) {
        fail(new Error('binary COPY output ended without its trailer'));
        connection!.stream.destroy();
        return;
      }
      copied = true; // before handBack: pg may read ReadyForQuery at once
      handBack(chunk, at);
      destination.end((error?: Error | null) => {
        if (error) {
          fail(error);
          return;
        }
        finished = true;
        succeedWhenDone();
      });
    };

    /** Writes chunk[0, length) (the read's payloads, moved together); only the rest of it is read on. */
    const write = (chunk: Buffer, length: number) => {
      if (length === 0 || settled) return;
      if (!destination.write(chunk.subarray(0, length)) && attached) {
        connection!.stream.pause();
        destination.once('drain', resume);
      }
    };

    const reader = {
      submit(pgConnection: pg.Connection) {
        connection = pgConnection as unknown as CopyConnection;
        const listeners = connection.stream.listeners('data') as DataListener[];
        if (listeners.length !== 1) {
          fail(new Error(`expected one reader of the PostgreSQL connection, found ${listeners.length}`));
          return;
        }
        pgListener = listeners[0]!;
        connection.stream.off('data', pgListener);
        connection.stream.on('data', onData);
        attached = true;
        connection.query(sql);
      },
      handleError(error: Error) {
        fail(error);
      },
      handleCommandComplete() {},
      handleReadyForQuery() {
        if (!copied) {
          fail(new Error('PostgreSQL ended the query without a COPY'));
          return;
        }
        ready = true;
        succeedWhenDone();
      },
    };
    client.query(reader);
  });
}
