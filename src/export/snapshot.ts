import type pg from 'pg';

import { buildGraphQuery, buildSessionSettings, type GraphQueryRow } from '../graph/export-sql.js';
import type { ParsedManifest, Subject } from '../manifest/index.js';
import type { DatabaseUrl } from '../postgres/database-url.js';
import { toDatabaseError } from '../postgres/errors.js';
import { extendedQuery, isMultipleCommands, multipleStatementsError } from '../postgres/one-statement.js';

/** One graph entry as written into the capsule: the subject keys, then `reasons`. */
export type GraphEntry = Record<string, string> & { reasons: string[] };

export interface ExportGraph {
  entries: GraphEntry[];
  /** to_jsonb text of the transaction timestamp, e.g. `2026-11-21T23:45:40.535064+00:00`. */
  exportedAt: string;
  sinceAt: string;
}

/** What opens the export transaction (also printed by `--dry-run-sql`). */
export const beginExportStatements = [
  'begin isolation level repeatable read, read only',
  `set local timezone = 'UTC'`,
  'set local extra_float_digits = 3',
  `set local intervalstyle = 'postgres'`,
];

/**
 * Opens the export transaction: one REPEATABLE READ, READ ONLY snapshot for every statement, so all
 * tables agree and nothing can be written, even by a hostile manifest (SQLSTATE 25006). TimeZone is
 * pinned to UTC for the transaction so timestamps in capsules do not depend on the server's setting;
 * extra_float_digits and IntervalStyle so a role's or database's own settings cannot change values on
 * the way: with extra_float_digits 0 or less a float is printed rounded (0.1 + 0.2 as 0.3), and an
 * interval printed in sql_standard style (`-1 2:00:00`, the sign applying to every field) reads as
 * another value in the default style (test/integration/export/session-settings.test.ts).
 */
export async function beginExportTransaction(client: pg.Client, url: DatabaseUrl): Promise<void> {
  try {
    for (const statement of beginExportStatements) await client.query(statement);
  } catch (error) {
    throw toDatabaseError(error, { url, action: 'export' });
  }
}

/** Runs the graph query once; rows come back sorted by the keys. */
export async function readGraph(
  client: pg.Client,
  url: DatabaseUrl,
  manifest: ParsedManifest,
  subject: Subject,
  sinceDays: number,
): Promise<ExportGraph> {
  const query = buildGraphQuery(manifest, subject, sinceDays);
  let rows: GraphQueryRow[];
  try {
    rows = (await client.query<GraphQueryRow>(extendedQuery(query.text, query.values))).rows;
  } catch (error) {
    if (isMultipleCommands(error)) throw multipleStatementsError('export: graph query');
    throw toDatabaseError(error, { url, sql: query.text, action: 'export: graph query' });
  }
  // The subject row is always there (it is unioned in), so rows[0] exists.
  const first = rows[0]!;
  const entries = rows.map((row) => {
    const entry: Record<string, unknown> = {};
    for (const key of manifest.subjectKeys) entry[key] = row[key];
    entry.reasons = row.reasons;
    return entry as GraphEntry;
  });
  return { entries, exportedAt: first.exported_at, sinceAt: first.since_at };
}

/** Hands `params` and `graph_keys` to the table queries of this transaction (set_config, local). */
export async function applySessionSettings(
  client: pg.Client,
  url: DatabaseUrl,
  manifest: ParsedManifest,
  subject: Subject,
  graph: ExportGraph,
): Promise<void> {
  const keys = manifest.subjectKeys;
  const params = { ...pick(subject, keys), since_at: graph.sinceAt };
  const statement = buildSessionSettings(
    params,
    graph.entries.map((entry) => pick(entry, keys)),
  );
  try {
    await client.query(extendedQuery(statement.text, statement.values));
  } catch (error) {
    throw toDatabaseError(error, { url, sql: statement.text, action: 'export' });
  }
}

function pick(source: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((key) => [key, source[key]]));
}
