import type { ParsedManifest, ParsedTable } from '../manifest/index.js';
import { quoteIdent, quoteTable } from '../postgres/identifiers.js';

/** The stub value every subject key gets when doctor plans manifest SQL: plans need types, not data. */
export const stubValue = 'replay-env-doctor';

/** `params` and `graph_keys` contents for planning: one row each, every key a text stub. */
export function stubGraph(manifest: ParsedManifest): {
  subject: Record<string, string>;
  params: Record<string, string>;
  graphKeys: Array<Record<string, string>>;
} {
  const subject = Object.fromEntries(manifest.subjectKeys.map((key) => [key, stubValue]));
  return {
    subject,
    params: { ...subject, since_at: '2000-01-01T00:00:00+00:00' },
    graphKeys: [subject],
  };
}

/**
 * The statement materialize's delete of one table amounts to, for EXPLAIN: `t` is the target row and
 * `g` a graph key row from a stubbed `graph_keys` (every key text). Only ever run under EXPLAIN, in a
 * read-only transaction doctor rolls back.
 *
 * @example
 * explain with graph_keys as (select null::text as "shop_id", …)
 * delete from "orders" as t where exists (select 1 from graph_keys g where
 * /* tables[orders].deletePredicate *\/
 * t.shop_id = g.shop_id
 * )
 */
export function buildDeletePredicateExplain(manifest: ParsedManifest, table: ParsedTable): { text: string } {
  // Typed NULLs, not a text stub: the planner folds constants, so `g.customer_id::int` on a literal
  // 'replay-env-doctor' failed to plan ("invalid input syntax for type integer") while materialize,
  // with real keys, worked. A NULL plans under any cast.
  const keys = manifest.subjectKeys.map((key) => `null::text as ${quoteIdent(key)}`).join(', ');
  return {
    text: [
      `explain with graph_keys as (select ${keys})`,
      `delete from ${quoteTable(table.name)} as t where exists (select 1 from graph_keys g where`,
      `/* tables[${table.name}].deletePredicate */`,
      table.deletePredicate ?? 'true',
      `)`,
    ].join('\n'),
  };
}
