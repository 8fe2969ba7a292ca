import { isLosslessNumber, LosslessNumber, parse, stringify } from 'lossless-json';

/**
 * Subject rewrite (SPEC §4): every string or number field whose key, lower-cased with non-alphanumerics
 * removed, contains a subject key normalised the same way, and whose value's text equals the old subject
 * value, gets the new value — at any depth (nested json/jsonb objects too). A number stays a number
 * (when the new value is one), so integer subject keys are rewritten too (the original tool rewrote only
 * strings, and a rewrite of an integer key silently moved nothing). Array elements are judged by the key
 * of the array that holds them (`"user_ids": ["u7"]` is rewritten), as the original tool did.
 */
export interface SubjectRewrite {
  /** Subject key → [old value, new value]; only keys whose value changes. */
  changes: {
    key: string;
    normalizedKey: string;
    from: string;
    to: string;
    /** `from` as it appears inside a JSON string literal: the per-row pre-check looks for it. */
    needle: string;
  }[];
}

/** Lower-case, alphanumerics only: `author_user_id` → `authoruserid`. */
export function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/**
 * The rewrite from a capsule's subject to `target` (a subset of the subject keys). Keys whose value
 * does not change are dropped, so an identity rewrite is empty.
 */
export function planSubjectRewrite(
  subject: Record<string, string>,
  target: Record<string, string>,
): SubjectRewrite {
  const changes = Object.entries(target)
    .filter(([key, to]) => subject[key] !== undefined && subject[key] !== to)
    .map(([key, to]) => {
      const from = subject[key]!;
      return { key, normalizedKey: normalizeKey(key), from, to, needle: JSON.stringify(from).slice(1, -1) };
    });
  return { changes };
}

/** A function telling, for a field name and a value's text, the change that applies (or undefined). */
export function subjectKeyMatcher(
  rewrite: SubjectRewrite,
): (field: string, value: string) => SubjectRewrite['changes'][number] | undefined {
  const cache = new Map<string, SubjectRewrite['changes']>();
  return (field, value) => {
    let changes = cache.get(field);
    if (!changes) {
      const normalized = normalizeKey(field);
      changes = rewrite.changes.filter((change) => normalized.includes(change.normalizedKey));
      cache.set(field, changes);
    }
    for (const change of changes) if (change.from === value) return change;
    return undefined;
  };
}

/** Counts of values rewritten, per subject key. */
export type RewriteCounts = Record<string, number>;

/**
 * Rewrites a parsed JSON value (returns a new value; the input is not modified). `counts`, when given,
 * gets one more per value rewritten, under the subject key that matched.
 */
export function rewriteSubjectInValue<T>(value: T, rewrite: SubjectRewrite, counts?: RewriteCounts): T {
  if (rewrite.changes.length === 0) return value;
  const match = subjectKeyMatcher(rewrite);
  return rewriteWith(value, '', (field, text) => {
    const change = match(field, text);
    if (change !== undefined && counts) counts[change.key] = (counts[change.key] ?? 0) + 1;
    return change?.to;
  }) as T;
}

const jsonNumber = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/** `field` is the key the value sits under ('' at the top); array items inherit their array's key. */
function rewriteWith(
  value: unknown,
  field: string,
  match: (field: string, value: string) => string | undefined,
): unknown {
  if (typeof value === 'string') return match(field, value) ?? value;
  // Numbers: lossless-json's (capsule rows, exact text) and plain ones (the header's graph).
  if (isLosslessNumber(value)) {
    const to = match(field, (value as LosslessNumber).value);
    if (to === undefined) return value;
    return jsonNumber.test(to) ? new LosslessNumber(to) : to;
  }
  if (typeof value === 'number') {
    const to = match(field, String(value));
    if (to === undefined) return value;
    return jsonNumber.test(to) && String(Number(to)) === to ? Number(to) : to;
  }
  if (Array.isArray(value)) return value.map((item) => rewriteWith(item, field, match));
  if (value === null || typeof value !== 'object' || !isPlainObject(value)) return value;
  // Null prototype: a jsonb key named `__proto__` is an ordinary key here, not the prototype setter.
  const out = Object.create(null) as Record<string, unknown>;
  for (const [key, item] of Object.entries(value)) out[key] = rewriteWith(item, key, match);
  return out;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Rewrites one row's JSON text. Rows that do not contain any old value as a JSON string are returned
 * unchanged without parsing (the common case); others are parsed with lossless-json so numbers keep
 * their exact text, and re-serialised compactly.
 */
export function rewriteSubjectInText(text: string, rewrite: SubjectRewrite, counts?: RewriteCounts): string {
  // Runs once per capsule row: the needles are computed once, in planSubjectRewrite. A needle is the old
  // value's text, so it finds numbers as well as strings.
  if (!rewrite.changes.some((change) => text.includes(change.needle))) return text;
  const rewritten = stringify(rewriteSubjectInValue(parse(text), rewrite, counts));
  return rewritten ?? text;
}
