import type { RecordedRedactionRule, SessionEvent } from '../generated/session.js';
import type { DatabaseUrl } from '../postgres/database-url.js';
import { BackendDecoder, type BackendEvent } from './backend-decoder.js';
import { CopyDataFile } from './copy-data-file.js';
import type { FrontendMessage } from './frontend-decoder.js';
import { QueryTracker, type TrackedQuery, type TrackedResult } from './query-tracker.js';
import { redactRows } from './redact-cells.js';
import { queryEventLine, resultEventLine } from './session-event-lines.js';
import { isoNow, SessionJournal } from './session-journal.js';

/** What the recorder reports (part of the proxy's ProxyEvent). */
export type RecorderEvent =
  | { kind: 'recording'; sessionId: string; file: string }
  | { kind: 'query'; sessionId: string; query: TrackedQuery; at: Date }
  | { kind: 'result'; sessionId: string; result: TrackedResult }
  | { kind: 'protocol-error'; sessionId: string; message: string };

export interface RecorderOptions {
  sessionId: string;
  pseudoUser: string;
  target: DatabaseUrl;
  sessionsDir: string;
  redaction: RecordedRedactionRule[];
  maxRecordedRows?: number;
  maxCopyBytes?: number;
  /** The server's settings at login (client_encoding and TimeZone matter to decoding). */
  parameters: [string, string][];
  /** The client encoding changed: the frontend decoder must follow. */
  onEncoding: (decode: (bytes: Buffer) => string) => void;
  onEvent: (event: RecorderEvent) => void;
  onSessionFile: (file: string) => void;
}

/**
 * The recording half of a proxied session: client messages and server chunks in, session events out to
 * the journal. Per server chunk the events it completes are written in one synchronous write before
 * the proxy forwards the chunk (the *nothing answered is lost* guarantee). The query and result lines
 * are built as text directly (session-event-lines.ts), the same bytes `JSON.stringify` gave.
 */
export class SessionRecorder {
  readonly #journal: SessionJournal;
  readonly #copyFile: CopyDataFile;
  readonly #tracker: QueryTracker;
  readonly #decoder = new BackendDecoder();
  readonly #track = (message: BackendEvent): void => this.#tracker.backend(message);
  #failed = false;

  constructor(private readonly options: RecorderOptions) {
    const start = new Date();
    const journal = SessionJournal.create(options.sessionsDir, options.pseudoUser, start);
    this.#journal = journal;
    options.onSessionFile(journal.finalPath);
    const copyFile = new CopyDataFile(journal.finalPath, options.maxCopyBytes);
    this.#copyFile = copyFile;
    const { target, redaction: rules } = options;
    this.#record('session_activity', {
      activity: 'session_start',
      details: {
        session_id: options.sessionId,
        pseudo_user: options.pseudoUser,
        start_time: start.toISOString(),
        ...(rules.length > 0 ? { redaction: rules } : {}),
      },
    });
    this.#record('session_activity', {
      activity: 'connection',
      details: {
        pseudo_user: options.pseudoUser,
        real_user: target.user,
        database: target.database,
        real_db_host: target.host,
        real_db_port: String(target.port),
      },
    });
    options.onEvent({ kind: 'recording', sessionId: options.sessionId, file: journal.finalPath });
    const sessionId = options.sessionId;
    this.#tracker = new QueryTracker(
      {
        onQuery: (query) => {
          this.#line(() => queryEventLine(query, isoNow()));
          options.onEvent({ kind: 'query', sessionId, query, at: new Date(query.startedAt) });
        },
        onResult: (result) => {
          this.#line(() => resultEventLine(result, isoNow()));
          options.onEvent({ kind: 'result', sessionId, result });
        },
        // Names, tags and error messages from the server are in the client encoding too.
        onEncoding: (decode) => {
          this.#decoder.decodeText = decode;
          options.onEncoding(decode);
        },
      },
      {
        ...(options.maxRecordedRows ? { maxRows: options.maxRecordedRows } : {}),
        copyIn: () => copyFile.begin(),
        ...(rules.length > 0 ? { redact: (columns, rows) => redactRows(columns, rows, rules) } : {}),
      },
    );
    for (const [name, value] of options.parameters) this.#tracker.setting(name, value);
  }

  get file(): string {
    return this.#journal.finalPath;
  }

  get queryCount(): number {
    return this.#tracker.queryCount;
  }

  /** A client message, before it is forwarded to the target. */
  frontend(message: FrontendMessage): void {
    this.#tracker.frontend(message);
  }

  /** A chunk of server bytes, before it is forwarded: decoded, tracked, and its events on disk. */
  backend(chunk: Buffer): void {
    // Flushed even when decoding throws: the caller still forwards the chunk, and the events completed
    // before the bad message must be on disk before the client sees them.
    try {
      this.#decoder.push(chunk, this.#track);
    } finally {
      this.#flush();
    }
  }

  /** Records what is still open, ends the session and writes its file; returns the path (undefined on failure). */
  async close(): Promise<string | undefined> {
    this.#tracker.flush();
    try {
      this.#copyFile.close();
    } catch (error) {
      this.#protocolError(`COPY data file: ${(error as Error).message}`);
    }
    const now = new Date().toISOString();
    this.#record('session_activity', {
      activity: 'session_end',
      details: { end_time: now, queries: this.#tracker.queryCount, reason: 'connection closed' },
    });
    try {
      return await this.#journal.finalize();
    } catch (error) {
      this.#protocolError(`session file: ${(error as Error).message}`);
      return undefined;
    }
  }

  #record(type: SessionEvent['type'], data: unknown): void {
    this.#line(() => JSON.stringify({ type, timestamp: isoNow(), data }));
  }

  /** Built inside the try: a line too long for a string (RangeError) is reported like a failed write. */
  #line(build: () => string): void {
    try {
      this.#journal.appendLine(build());
    } catch (error) {
      this.#journalFailed(error);
    }
  }

  #flush(): void {
    try {
      this.#journal.flush();
    } catch (error) {
      this.#journalFailed(error);
    }
  }

  /**
   * A failing journal write (disk full) threw out of close() as an unhandled rejection and took the
   * whole proxy, every client's session, down with a stack trace. Report it once and keep relaying.
   */
  #journalFailed(error: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#protocolError(`session file: ${(error as Error).message}`);
  }

  #protocolError(message: string): void {
    this.options.onEvent({ kind: 'protocol-error', sessionId: this.options.sessionId, message });
  }
}
