import { isDeepStrictEqual } from 'node:util';

import { cancelStatement } from '../../postgres/cancel.js';
import { withClient } from '../../postgres/connect.js';
import { toDatabaseError } from '../../postgres/errors.js';
import { extendedQuery, isMultipleCommands, multipleStatementsError } from '../../postgres/one-statement.js';
import { scrubSecrets } from '../../secrets.js';
import {
  type ParsedProbe,
  type ProbeContext,
  type ProbeEvent,
  probeEventBase,
  settleProbe,
} from './types.js';

/** Every column arrives as the text Postgres renders, so comparisons do not depend on driver parsing. */
const textTypes = { getTypeParser: () => (value: string) => value };
const valueExcerptChars = 1024;
const rowsKept = 200;

/**
 * An sql probe: runs the query against the replay database inside a transaction that is rolled back (a
 * probe never changes the replay data), then checks `expectRows` (row count) and/or `expectValue` (first
 * column of the first row, compared as text, or as JSON when the expectation is an object or array).
 */
export async function runSqlProbe(probe: ParsedProbe, context: ProbeContext): Promise<ProbeEvent> {
  const event: ProbeEvent = {
    ...probeEventBase(probe, new Date().toISOString()),
    sql: probe.sql ?? '',
    rowCount: null,
    ...(probe.expectRows === undefined ? {} : { expectRows: probe.expectRows }),
    ...('expectValue' in probe ? { expectValue: probe.expectValue } : {}),
  };
  return settleProbe(event, performance.now(), async () => {
    if (!context.databaseUrl) throw new Error('no replay database URL');
    const url = context.databaseUrl;
    const result = await withClient(
      url,
      {
        action: `probe ${probe.name}`,
        statementTimeoutMs: probe.timeoutSeconds * 1000,
        applicationName: 'replay-env run',
      },
      async (client) => {
        // Ctrl-C/SIGTERM cancels the running query, rather than waiting for its statement timeout.
        const cancel = (): void => cancelStatement(client, url);
        context.signal?.addEventListener('abort', cancel, { once: true });
        try {
          if (context.signal?.aborted) throw new Error('interrupted');
          await client.query('begin read only');
          // Extended protocol: one statement, so `select 1; commit; update …` cannot escape the
          // rolled-back transaction.
          const query = { ...extendedQuery(probe.sql!), rowMode: 'array' as const, types: textTypes };
          return await client.query(query);
        } catch (error) {
          if (context.signal?.aborted) throw new Error('interrupted');
          if (isMultipleCommands(error)) throw multipleStatementsError(`probe ${probe.name}`);
          throw toDatabaseError(error, { url, sql: probe.sql!, action: `probe ${probe.name}` });
        } finally {
          context.signal?.removeEventListener('abort', cancel);
          await client.query('rollback').catch(() => {});
        }
      },
    );
    const rows = result.rows as unknown[][];
    event.rowCount = rows.length;
    // Kept for golden traces (src/golden/): bounded, and scrubbed like every other value in a trace.
    event.columns = result.fields.map((field) => field.name);
    event.rows = rows
      .slice(0, rowsKept)
      .map((row) =>
        row.map((cell) => (cell === null ? null : scrubSecrets(String(cell).slice(0, valueExcerptChars)))),
      );
    const first = rows[0]?.[0] as string | null | undefined;
    if (first !== undefined)
      event.value = first === null ? null : scrubSecrets(first.slice(0, valueExcerptChars));
    return check(probe, rows.length, first);
  });
}

function check(probe: ParsedProbe, rowCount: number, first: string | null | undefined): string | undefined {
  if (probe.expectRows !== undefined && rowCount !== probe.expectRows) {
    return `${rowCount} row(s), expected ${probe.expectRows}`;
  }
  if ('expectValue' in probe && probe.expectValue !== undefined) {
    if (first === undefined) return 'no rows, expected a value';
    if (!valueMatches(first, probe.expectValue)) {
      return `value is ${first === null ? 'null' : JSON.stringify(first.slice(0, 200))}, expected ${JSON.stringify(probe.expectValue)}`;
    }
  }
  return undefined;
}

/** Compares Postgres' text rendering with an expectation from YAML/JSON. */
export function valueMatches(actual: string | null, expected: unknown): boolean {
  if (expected === null) return actual === null;
  if (actual === null) return false;
  if (typeof expected === 'boolean')
    return (actual === 't' || actual === 'true') === expected && /^(t|f|true|false)$/.test(actual);
  if (typeof expected === 'number') return actual.trim() !== '' && Number(actual) === expected;
  if (typeof expected === 'string') return actual === expected;
  try {
    return isDeepStrictEqual(JSON.parse(actual), expected);
  } catch {
    return false;
  }
}
