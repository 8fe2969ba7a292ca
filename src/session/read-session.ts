import { readFile } from 'node:fs/promises';

import { FileError } from '../errors.js';
import type {
  QueryEvent,
  QueryResultEvent,
  RecordedRedactionRule,
  SessionEvent,
} from '../generated/session.js';
import { validateAgainstSchema } from '../validation.js';
import { journalSuffix, readJournal } from './session-journal.js';

export interface RecordedQuery {
  query: QueryEvent['data'];
  at: string;
  /** Missing when the session ended (or the proxy died) before the result arrived. */
  result: QueryResultEvent['data'] | undefined;
}

export interface LoadedSession {
  events: SessionEvent[];
  queries: RecordedQuery[];
  redaction: RecordedRedactionRule[];
}

/**
 * Reads a session file (`.json` array) or the journal of a session still being recorded or left by a
 * killed proxy (`.json.journal`, one event per line), validates it against schemas/session.schema.json
 * and pairs each query with its result.
 */
export async function loadSession(file: string): Promise<LoadedSession> {
  let events: SessionEvent[];
  let corruptLines: number[] = [];
  try {
    if (file.endsWith(journalSuffix)) {
      ({ events, corruptLines } = await readJournal(file));
    } else {
      events = JSON.parse(await readFile(file, 'utf8')) as SessionEvent[];
    }
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new FileError(`cannot read session ${file}: ${reason}`);
  }
  const problems = validateAgainstSchema('session', events);
  if (problems.length > 0) {
    throw new FileError(`${file} is not a session file: ${problems.slice(0, 3).join('; ')}`, {
      hint: 'record sessions with `replay-env record`; see docs/sessions.md',
    });
  }
  for (const event of events) {
    if (event.type === 'session_activity' && event.data.details.corrupt_lines)
      corruptLines = [...corruptLines, ...event.data.details.corrupt_lines];
  }
  if (corruptLines.length > 0) {
    throw new FileError(
      `${file} has ${corruptLines.length} corrupt line(s) (journal line ${corruptLines.slice(0, 5).join(', ')}${corruptLines.length > 5 ? ', …' : ''}): the queries on them cannot be replayed`,
      { hint: 'the session file was damaged after recording; record the session again' },
    );
  }
  const results = new Map<number, QueryResultEvent['data']>();
  for (const event of events)
    if (event.type === 'query_result') results.set(event.data.query_number, event.data);
  const queries = events
    .filter((event): event is QueryEvent => event.type === 'query')
    .map((event) => ({
      query: event.data,
      at: event.timestamp,
      result: results.get(event.data.query_number),
    }));
  const start = events.find(
    (event) => event.type === 'session_activity' && event.data.activity === 'session_start',
  );
  const redaction = start?.type === 'session_activity' ? (start.data.details.redaction ?? []) : [];
  return { events, queries, redaction };
}
