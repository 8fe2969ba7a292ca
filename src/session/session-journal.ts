import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { open, readdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';

import { FileError } from '../errors.js';
import type { SessionEvent } from '../generated/session.js';
import { journalLines } from './journal-lines.js';
import { formatSessionValue } from './session-json.js';

export const journalSuffix = '.journal';

let lastMs = Number.NaN;
let lastIso = '';
/**
 * `new Date().toISOString()`, formatted once per millisecond: the proxy stamps two events per query,
 * and formatting a date showed in its CPU profile under pgbench.
 */
export function isoNow(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}

/**
 * Append-only JSONL journal of one session (`<file>.json.journal`), written synchronously before the
 * server's answer is forwarded (events queued while one batch of messages is handled, one write) so that a `kill -9` of the proxy loses nothing the client was already answered; `finalize()`
 * turns it into the `<file>.json` array and deletes the journal. Files are created mode 0600.
 */
export class SessionJournal {
  readonly journalPath: string;
  readonly finalPath: string;
  #fd: number | undefined;
  /** Lines appended since the last flush (one write per batch of server messages, not per event). */
  #pending = '';

  private constructor(finalPath: string, fd: number) {
    this.finalPath = finalPath;
    this.journalPath = `${finalPath}${journalSuffix}`;
    this.#fd = fd;
  }

  /**
   * Reserves `DIR/<name>_<YYYY-MM-DD_HH-MM-SS>.json` (UTC), adding `_2`, `_3`… when a session of the
   * same name and second already exists; the journal is created exclusively so two sessions never share it.
   */
  static create(dir: string, name: string, at: Date): SessionJournal {
    const stamp = at.toISOString().slice(0, 19).replace('T', '_').replace(/:/g, '-');
    const base = `${safeFileName(name)}_${stamp}`;
    for (let attempt = 1; attempt < 10_000; attempt += 1) {
      const finalPath = join(dir, attempt === 1 ? `${base}.json` : `${base}_${attempt}.json`);
      // wx on the journal reserves the name; the final file must not exist either.
      if (existsSync(finalPath)) continue;
      try {
        return new SessionJournal(finalPath, openSync(`${finalPath}${journalSuffix}`, 'wx', 0o600));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    throw new FileError(`cannot find a free session file name for ${base} in ${dir}`);
  }

  /** Queues one event; `flush()` writes the queue (the proxy does so before forwarding answers). */
  append(event: SessionEvent): void {
    this.appendLine(JSON.stringify(event));
  }

  /** Queues one event already serialised as one line of JSON (no newline). */
  appendLine(line: string): void {
    if (this.#fd === undefined) return;
    this.#pending += `${line}\n`;
  }

  /** Writes the queued lines synchronously, in one write (see class comment). */
  flush(): void {
    if (this.#fd === undefined || this.#pending.length === 0) return;
    const text = this.#pending;
    this.#pending = '';
    // A string is written without a Buffer of our own; a short write (rare on a file) goes on from bytes.
    let offset = writeSync(this.#fd, text);
    if (offset >= Buffer.byteLength(text)) return;
    const data = Buffer.from(text);
    while (offset < data.length) offset += writeSync(this.#fd, data, offset);
  }

  /** Closes the journal and writes the final JSON file; returns its path. */
  async finalize(): Promise<string> {
    if (this.#fd !== undefined) {
      this.flush();
      closeSync(this.#fd);
      this.#fd = undefined;
    }
    await finalizeJournal(this.journalPath);
    return this.finalPath;
  }
}

/** The events of a journal and the 1-based numbers of lines in the middle that were not valid JSON. */
export interface JournalContents {
  events: SessionEvent[];
  corruptLines: number[];
}

/**
 * Reads the events of a journal. A torn last line (the process died mid-write) is dropped silently;
 * a bad line anywhere else is corruption: it is skipped and counted, never taken as the end of the
 * session (which would hide every query after it).
 */
export async function readJournal(path: string): Promise<JournalContents> {
  const events: SessionEvent[] = [];
  const bad: number[] = [];
  let lineNumber = 0;
  let lastGood = 0;
  for await (const line of journalLines(path)) {
    lineNumber += 1;
    if (!line.trim()) continue;
    try {
      events.push(JSON.parse(line) as SessionEvent);
      lastGood = lineNumber;
    } catch {
      bad.push(lineNumber);
    }
  }
  // Bad lines after the last good one are the torn tail of a killed writer.
  return { events, corruptLines: bad.filter((line) => line < lastGood) };
}

/**
 * Converts `X.json.journal` into `X.json` (a JSON array laid out by formatSessionValue, written to a temp file and renamed, mode
 * 0600) and deletes the journal. A journal without a `session_end` (proxy killed) gets one with
 * `recovered: true`. Streams: about 256 KiB of events in memory at a time, written in batches (each an
 * awaited write, so other sessions keep being served while a big journal is finalized).
 */
export async function finalizeJournal(journalPath: string): Promise<string> {
  const finalPath = journalPath.slice(0, -journalSuffix.length);
  const temp = `${finalPath}.tmp-${process.pid}`;
  const handle = await open(temp, 'w', 0o600);
  let batch: SessionEvent[] = [];
  let batchChars = 0;
  let count = 0;
  let last: SessionEvent | undefined;
  const bad: number[] = [];
  let lineNumber = 0;
  let lastGood = 0;
  const write = async (): Promise<void> => {
    if (batch.length === 0) return;
    const text = batch.map((event) => `  ${formatSessionValue(event, '  ')}`).join(',\n');
    await handle.write(`${count > 0 ? ',\n' : '[\n'}${text}`);
    count += batch.length;
    batch = [];
    batchChars = 0;
  };
  const add = async (event: SessionEvent, chars: number): Promise<void> => {
    batch.push(event);
    batchChars += chars;
    if (batchChars >= 1 << 18) await write();
  };
  try {
    for await (const line of journalLines(journalPath)) {
      lineNumber += 1;
      if (!line.trim()) continue;
      let event: SessionEvent;
      try {
        event = JSON.parse(line) as SessionEvent;
      } catch {
        bad.push(lineNumber);
        continue;
      }
      lastGood = lineNumber;
      last = event;
      await add(event, line.length);
    }
    // Bad lines after the last good one are the torn tail of a killed writer (as readJournal).
    const corruptLines = bad.filter((line) => line < lastGood);
    const ended = last?.type === 'session_activity' && last.data.activity === 'session_end';
    if (!ended || corruptLines.length > 0) {
      const now = new Date().toISOString();
      // The corrupt line numbers travel with the session: replay refuses it rather than pass on less.
      await add(
        {
          type: 'session_activity',
          timestamp: now,
          data: {
            activity: 'session_end',
            details: {
              end_time: now,
              reason: 'recovered from journal',
              recovered: true,
              ...(corruptLines.length > 0 ? { corrupt_lines: corruptLines } : {}),
            },
          },
        },
        0,
      );
    }
    await write();
    await handle.write(count > 0 ? '\n]\n' : '[\n]\n');
  } finally {
    await handle.close();
  }
  await rename(temp, finalPath);
  await rm(journalPath, { force: true });
  return finalPath;
}

/** Finalizes every leftover `*.json.journal` in `dir` (a proxy that was killed); returns the files written. */
export async function recoverJournals(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const recovered: string[] = [];
  for (const name of names.filter((entry) => entry.endsWith(`.json${journalSuffix}`)).sort()) {
    recovered.push(await finalizeJournal(join(dir, name)));
  }
  return recovered;
}

function safeFileName(name: string): string {
  return basename(name).replace(/[^A-Za-z0-9_.-]/g, '_') || 'session';
}
