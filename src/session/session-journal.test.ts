import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import type { SessionEvent } from '../generated/session.js';
import { SessionJournal } from './session-journal.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function query(number: number, sql: string): SessionEvent {
  return { type: 'query', timestamp: '2026-12-01T21:00:00.000Z', data: { query_number: number, sql } };
}

describe('finalising a journal', () => {
  it('writes the events as one JSON array, values unchanged, across many write batches', async () => {
    dir = await mkdtemp(join(tmpdir(), 'journal-'));
    const journal = SessionJournal.create(dir, 'user', new Date('2026-12-01T21:00:00Z'));
    // U+2028/U+2029 are line terminators to a multiline regex: re-indenting lines put spaces after them.
    const awkward = 'a\u2028b\u2029c "q" \\ \n\r\t é 😀';
    const events: SessionEvent[] = [
      query(1, `select '${awkward}'`),
      {
        type: 'query_result',
        timestamp: '2026-12-01T21:00:00.001Z',
        data: {
          query_number: 1,
          columns: [awkward],
          rows: [[awkward], [null]],
          row_count: 2,
          command_tag: 'SELECT 2',
          error: null,
        },
      },
      // Enough events for several ~256 KiB batches.
      ...Array.from({ length: 8000 }, (_, index) =>
        query(index + 2, `select ${index} /* ${'x'.repeat(40)} */`),
      ),
      {
        type: 'session_activity',
        timestamp: '2026-12-01T21:00:01.000Z',
        data: { activity: 'session_end', details: { end_time: '2026-12-01T21:00:01.000Z' } },
      },
    ];
    for (const event of events) journal.append(event);
    const file = await journal.finalize();
    const text = await readFile(file, 'utf8');
    expect(JSON.parse(text)).toEqual(events);
    // One event after another, in the layout of session-json.ts; rows stay on one line each.
    expect(text.startsWith('[\n  {\n    "type": "query",\n')).toBe(true);
    expect(text).toContain(
      `      "rows": [\n        [${JSON.stringify(awkward)}],\n        [null]\n      ],\n`,
    );
    expect(text.endsWith('\n    }\n  }\n]\n')).toBe(true);
  });
});
