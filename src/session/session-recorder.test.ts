import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect, it } from 'vitest';

import { DatabaseUrl } from '../postgres/database-url.js';
import { journalSuffix } from './session-journal.js';
import { SessionRecorder } from './session-recorder.js';

/** One backend message: type byte, int32 length (itself included), body. */
function message(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

it('a server chunk that fails to decode still puts the events it completed on disk first', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'recorder-'));
  const recorder = new SessionRecorder({
    sessionId: 's1',
    pseudoUser: 'ada',
    target: DatabaseUrl.parse('postgres://app@127.0.0.1:5432/app'),
    sessionsDir: dir,
    redaction: [],
    parameters: [],
    onEncoding: () => {},
    onEvent: () => {},
    onSessionFile: () => {},
  });
  recorder.frontend({ type: 'query', sql: 'select 1 where false', raw: Buffer.alloc(0) });
  const answered = Buffer.concat([message('C', Buffer.from('SELECT 0\0')), message('Z', Buffer.from('I'))]);
  const broken = Buffer.from([0x44, 0, 0, 0, 2]); // a DataRow claiming a length below 4
  expect(() => recorder.backend(Buffer.concat([answered, broken]))).toThrow(/invalid server message length/);
  const journal = readFileSync(`${recorder.file}${journalSuffix}`, 'utf8');
  const results = journal.split('\n').filter((line) => line.includes('"type":"query_result"'));
  expect(results).toHaveLength(1);
  expect(results[0]).toContain('SELECT 0');
});
