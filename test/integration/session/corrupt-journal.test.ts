import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect } from 'vitest';

import { FileError } from '../../../src/errors.js';
import type { ParsedManifest, ParsedProbe } from '../../../src/manifest/index.js';
import { runSessionProbe } from '../../../src/run/probes/session.js';
import { replaySession } from '../../../src/services/replay.js';
import { loadSession } from '../../../src/session/read-session.js';
import { finalizeJournal } from '../../../src/session/session-journal.js';
import { dbTest } from '../../setup/database.js';
import { tempDir } from './helpers.js';

const at = '2026-01-01T00:00:00.000Z';
const start = {
  type: 'session_activity',
  timestamp: at,
  data: { activity: 'session_start', details: { session_id: 's' } },
};
const query = (n: number) => ({
  type: 'query',
  timestamp: at,
  data: { query_number: n, sql: `select ${n} as n` },
});
const result = (n: number) => ({
  type: 'query_result',
  timestamp: at,
  data: {
    query_number: n,
    columns: ['n'],
    rows: [[String(n)]],
    row_count: 1,
    command_tag: 'SELECT 1',
    duration_ms: 1,
    error: null,
  },
});

/** A journal whose 4th line (query 2) is damaged; optionally a torn tail as a killed proxy leaves. */
async function journal(torn: boolean): Promise<string> {
  const lines = [start, query(1), result(1), query(2), result(2), query(3), result(3)].map((event) =>
    JSON.stringify(event),
  );
  lines[3] = lines[3]!.slice(0, 20) + '\u0000garbage';
  const file = join(await tempDir('corrupt'), 'alice_2026-01-01_00-00-00.json.journal');
  await writeFile(file, `${lines.join('\n')}\n${torn ? '{"type":"query","timest' : ''}`);
  return file;
}

describe('a corrupt line in the middle of a journal is never a pass', () => {
  dbTest(
    'replay of the journal, of its finalized file, and a session probe all fail naming the line',
    async ({ db }) => {
      const file = await journal(true);
      await expect(loadSession(file)).rejects.toThrow(FileError);
      await expect(loadSession(file)).rejects.toThrow(/has 1 corrupt line\(s\) \(journal line 4\)/);
      await expect(replaySession({ file, databaseUrl: db.url, rollback: true })).rejects.toThrow(
        /corrupt line/,
      );

      // Recovery keeps every good event after the damage and records where it was.
      const finalFile = await finalizeJournal(file);
      const events = JSON.parse(await readFile(finalFile, 'utf8')) as {
        type: string;
        data: { details?: { corrupt_lines?: number[] } };
      }[];
      expect(events.filter((event) => event.type === 'query')).toHaveLength(2);
      expect(events.at(-1)?.data.details?.corrupt_lines).toEqual([4]);
      await expect(loadSession(finalFile)).rejects.toThrow(/journal line 4/);

      const probe = {
        name: 'replay',
        kind: 'session',
        session: finalFile,
        timeoutSeconds: 30,
        allowFailure: false,
      } as unknown as ParsedProbe;
      const event = await runSessionProbe(probe, {
        manifest: { repoPath: '/' } as unknown as ParsedManifest,
        env: {},
        databaseUrl: db.url,
        graceMs: 0,
      });
      expect(event.success).toBe(false);
      expect(event.message).toMatch(/corrupt line/);
    },
  );

  dbTest('a torn last line alone is the normal trace of a killed proxy: the rest replays', async ({ db }) => {
    const file = join(await tempDir('torn'), 'alice_2026-01-01_00-00-00.json.journal');
    const lines = [start, query(1), result(1)].map((event) => JSON.stringify(event));
    await writeFile(file, `${lines.join('\n')}\n{"type":"query","timest`);
    const session = await loadSession(file);
    expect(session.queries).toHaveLength(1);
    const replay = await replaySession({ file, databaseUrl: db.url, rollback: true });
    expect(replay.matched).toBe(1);
  });
});
