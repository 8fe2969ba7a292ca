import type pg from 'pg';

import { SubjectError } from '../errors.js';
import type { DatabaseUrl } from '../postgres/database-url.js';
import { toDatabaseError } from '../postgres/errors.js';
import { quoteIdent, quoteTable } from '../postgres/identifiers.js';
import type { InitDraft } from './draft.js';

/**
 * Rows each drafted table holds for one subject (`--sample-subject k=v …`), with graph_keys = that subject
 * alone (graph edges not followed). Parent tables are left out (null): closure decides their rows.
 * Values travel as parameters only.
 */
export async function sampleCounts(
  client: pg.Client,
  url: DatabaseUrl,
  draft: InitDraft,
  pairs: readonly string[],
): Promise<Record<string, number | null>> {
  const subject = new Map<string, string>();
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    const key = at > 0 ? pair.slice(0, at) : '';
    if (!draft.subjectKeys.includes(key))
      throw new SubjectError(
        `--sample-subject ${JSON.stringify(pair)}: expected one of ${draft.subjectKeys.join(', ')}=VALUE`,
      );
    subject.set(key, pair.slice(at + 1));
  }
  const missing = draft.subjectKeys.filter((key) => !subject.has(key));
  if (missing.length > 0) throw new SubjectError(`--sample-subject: missing ${missing.join(', ')}`);
  const values = draft.subjectKeys.map((key) => subject.get(key)!);
  const graphKeys = `graph_keys as (select ${draft.subjectKeys.map((key, i) => `$${i + 1}::text as ${quoteIdent(key)}`).join(', ')})`;
  const counts: Record<string, number | null> = {};
  for (const table of draft.tables) {
    if (table.role === 'parent' || table.role === 'reference') {
      counts[table.name] = null;
      continue;
    }
    const sql = `with ${graphKeys} select count(*)::int as n from ${quoteTable(table.name)} t where ${table.where}`;
    try {
      counts[table.name] = (await client.query<{ n: number }>(sql, values)).rows[0]!.n;
    } catch (error) {
      throw toDatabaseError(error, { url, sql, action: `init: sample count of ${table.name}` });
    }
  }
  return counts;
}
