/**
 * Redaction inside the export's read-only snapshot (issue #16): the server applies the rules to each row's
 * TOP-LEVEL fields (string hashing with the built-in `sha256()`, the other actions as jsonb constants), so
 * Node writes those rows untouched. The server cannot reproduce everything the JS redactor does — hashing a
 * non-string (serde_json's number text), or a recursive rule's key inside nested JSON — so it sends such
 * rows UNREDACTED, prefixed with one marker byte (0x03, never part of jsonb text), and the writer hands
 * exactly those rows to the JS redactor (redact-text.ts), whole, as before. Both paths give the same values
 * (test/integration/export/sql-redaction.test.ts compares them on generated rows); a redacted row's text
 * keeps jsonb's spacing instead of being re-serialised compactly.
 *
 * Where a field could occur nested is decided by a text search of the row for the field as a JSON string
 * (`"token"`), counting the top-level key once: a nested key always shows up that way, so the test can only
 * err towards the JS path (e.g. a string VALUE "token"), never towards a missed field.
 *
 * @example (rule: tickets.requester_email hash, prefix mail-; rule: token empty, recursive)
 * select case
 *     when s.r is null or jsonb_typeof(s.r) <> 'object' then s.r::text
 *     when coalesce(jsonb_typeof(s.r->'requester_email') not in ('string', 'null'), false)
 *       or strpos(s.t, '"token"') > 0 and (not s.r ? 'token' or …) then chr(3) || s.r::text
 *     else s.t
 *   end
 * from (select r, (r || case when … then jsonb_build_object('requester_email', to_jsonb('mail-' ||
 *   left(encode(sha256(convert_to(r->>'requester_email', 'UTF8')), 'hex'), 12))) else '{}' end)::text as t
 *   from (<the table's select, one jsonb column r>) as redaction_source offset 0) as s
 */
import type { ParsedRedactionRule } from '../manifest/index.js';
import { quoteLiteral } from '../postgres/identifiers.js';
import { redactValue } from './redact-value.js';
import type { FieldRule } from './top-level-splice.js';

/** First byte of a row the server left for the JS redactor. */
export const jsRedactionMarker = 0x03;

/** What the server can do for one top-level field: the patch, and when it must leave the row to JS. */
interface FieldPlan {
  /** jsonb expression of the redacted value (input: `r->'field'`, present, not null, not ""). */
  value: string;
  /** The chain starts with `hash`: only a string input can be hashed in SQL (others: serde_json text). */
  needsString: boolean;
}

/**
 * The SELECT that redacts the rows of `innerSelect` (which must return one jsonb column named `r`, in
 * export order) in SQL, one text column per row; undefined when no rule applies to `table` or a field or
 * prefix is not plain printable ASCII (the table then stays entirely on the JS path). `prefixed`: the
 * inner select also returns a text column `n`, put before each row (its lossy-value marker,
 * graph/lossy-values-sql.ts).
 */
export function buildSqlRedaction(
  rules: readonly ParsedRedactionRule[],
  table: string,
  innerSelect: string,
  prefixed = false,
): { text: string } | undefined {
  const applicable = rules.filter((rule) => rule.table === undefined || rule.table === table);
  if (applicable.length === 0) return undefined;
  const chains = new Map<string, FieldRule[]>();
  const recursive = new Set<string>();
  for (const rule of applicable) {
    if (!printableAscii(rule.prefix)) return undefined;
    for (const field of rule.fields) {
      if (!printableAscii(field)) return undefined;
      const chain = chains.get(field) ?? [];
      chain.push({ action: rule.action, prefix: rule.prefix });
      chains.set(field, chain);
      if (rule.recursive) recursive.add(field);
    }
  }
  const patches: string[] = [];
  const toJs: string[] = [];
  for (const [field, chain] of chains) {
    const key = quoteLiteral(field);
    const plan = planField(chain, `(r->>${key})`);
    patches.push(
      `case when r->${key} not in ('null'::jsonb, '""'::jsonb) then jsonb_build_object(${key}, ${plan.value}) else '{}' end`,
    );
    if (plan.needsString) {
      toJs.push(`coalesce(jsonb_typeof(s.r->${key}) not in ('string', 'null'), false)`);
    }
  }
  for (const field of recursive) {
    // The redacted text holds the top-level key once (if present); any other occurrence may be nested.
    const needle = quoteLiteral(JSON.stringify(field));
    const n = JSON.stringify(field).length;
    toJs.push(
      `strpos(s.t, ${needle}) > 0 and (not (s.r ? ${quoteLiteral(field)}) or strpos(substr(s.t, strpos(s.t, ${needle}) + ${n}), ${needle}) > 0)`,
    );
  }
  const text = [
    `/* redaction of ${table} (top-level fields in SQL; rows marked chr(3) are redacted by replay-env) */`,
    `select ${prefixed ? 's.n || ' : ''}case`,
    `    when s.r is null or jsonb_typeof(s.r) <> 'object' then s.r::text`,
    ...(toJs.length === 0
      ? []
      : [
          `    when ${toJs.map((condition) => `(${condition})`).join('\n      or ')} then chr(3) || s.r::text`,
        ]),
    `    else s.t`,
    `  end`,
    `from (`,
    `  select r, ${prefixed ? 'n, ' : ''}(r\n    || ${patches.join('\n    || ')})::text as t`,
    `  from (\n${innerSelect}\n  ) as redaction_source`,
    // OFFSET 0 keeps `t` computed once per row (a pulled-up subquery would repeat its expression).
    `  offset 0`,
    `) as s`,
  ].join('\n');
  return { text };
}

/**
 * Folds one field's rule chain (manifest order) into SQL: the first action sees the unknown input;
 * after a constant result, later actions are applied here, in JS, by the same `redactValue` as the rows.
 */
function planField(chain: readonly FieldRule[], input: string): FieldPlan {
  let constant: { value: unknown } | undefined;
  let hashed: string | undefined; // SQL text expression of a hash result (a non-empty string)
  for (const rule of chain) {
    if (constant) {
      constant = { value: redactValue(rule.action, rule.prefix, constant.value) };
    } else if (rule.action === 'hash') {
      hashed = hashSql(hashed ?? input, rule.prefix);
    } else {
      // The input (or a hash of it) is neither null nor "": any non-hash action gives a constant.
      constant = { value: redactValue(rule.action, rule.prefix, 'x') };
      hashed = undefined;
    }
  }
  const needsString = chain[0]!.action === 'hash';
  if (constant) {
    return { value: `${quoteLiteral(JSON.stringify(constant.value))}::jsonb`, needsString };
  }
  return { value: `to_jsonb(${hashed!})`, needsString };
}

/** `prefix || first 12 hex digits of sha256(UTF-8 of text)`, as hashValue computes for a string. */
function hashSql(text: string, prefix: string): string {
  return `(${quoteLiteral(prefix)} || left(encode(sha256(convert_to(${text}, 'UTF8')), 'hex'), 12))`;
}

/** Field names and prefixes the server path handles: same text in every server encoding, no escapes. */
function printableAscii(text: string): boolean {
  return /^[\x20-\x7e]*$/.test(text);
}
