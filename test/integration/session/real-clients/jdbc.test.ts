import { fileURLToPath } from 'node:url';

import { describe, expect } from 'vitest';

import { dbTest } from '../../../setup/database.js';
import { seedTable, tableContents } from '../helpers.js';
import {
  findTool,
  queriesOf,
  recordThrough,
  replayMatches,
  reportMissing,
  reseed,
  resultsOf,
  run,
} from './record-tool.js';

/**
 * pgJDBC (Debian's /usr/share/java/postgresql.jar) with prepareThreshold=5: from the 5th execution
 * a prepared statement is server-prepared and fetches binary results; a fetch size makes a portal
 * that is read in batches. Recorded through the proxy, replayed with --rollback.
 */
const java = findTool('/usr/bin/java', '/usr/lib/jvm/java-17-openjdk-amd64/bin/java');
const jar = findTool('/usr/share/java/postgresql.jar');
reportMissing('java', java === undefined);
reportMissing('the PostgreSQL JDBC jar (/usr/share/java/postgresql.jar)', jar === undefined);
const program = fileURLToPath(new URL('java/JdbcSession.java', import.meta.url));

describe.skipIf(java === undefined || jar === undefined)('JDBC through the recording proxy', () => {
  dbTest(
    'server-prepared binary results, batches, errors replay with --rollback',
    { timeout: 120_000 },
    async ({ db }) => {
      await db.query(seedTable);
      const recording = await recordThrough(db.url, async (port) => {
        const result = await run(java!, ['-cp', jar!, program, String(port)], { timeout: 90_000 });
        expect(result.stdout).toContain('jdbc ok');
      });
      const queries = queriesOf(recording.events);
      expect(queries.some((query) => query.statement !== undefined && query.statement !== '')).toBe(true);
      // All 8 executions, including the server-prepared binary ones without a Describe, decoded as text.
      const selects = queries.filter((query) => query.sql.includes('as third'));
      expect(selects).toHaveLength(8);
      const results = resultsOf(recording.events);
      for (const select of selects.slice(1)) {
        const result = results.find((candidate) => candidate.query_number === select.query_number)!;
        expect(result.columns).toEqual(['id', 'name', 'value', 'created_at', 'third']);
        expect(result.rows[0]).toEqual([
          '2',
          'test2',
          '200',
          '2025-10-07 22:42:12.977496',
          '66.6666666666666667',
        ]);
      }
      await reseed(db);
      const before = await tableContents(db);
      await replayMatches(recording.file, db.url, ['id']);
      expect(await tableContents(db)).toEqual(before);
    },
  );
});
