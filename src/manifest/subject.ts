import { SubjectError } from '../errors.js';

export type Subject = Record<string, string>;

/**
 * One `key=value` flag value: the key must be a subject key, the value non-empty (kept verbatim: values
 * only ever reach SQL as bind parameters). `formatHint` is the hint of a pair without "="; with `unique`,
 * a key already in it is an error.
 */
function parsePair(
  pair: string,
  subjectKeys: readonly string[],
  flag: string,
  formatHint: string | undefined,
  unique?: Subject,
): [key: string, value: string] {
  const eq = pair.indexOf('=');
  if (eq <= 0) throw new SubjectError(`${flag} "${pair}" must be key=value`, formatHint);
  const key = pair.slice(0, eq).trim();
  if (!subjectKeys.includes(key)) {
    throw new SubjectError(
      `${flag} key "${key}" is not a subject key of this app`,
      `subject keys: ${subjectKeys.join(', ')}`,
    );
  }
  if (unique && key in unique) throw new SubjectError(`${flag} key "${key}" is given twice`);
  const value = pair.slice(eq + 1);
  if (value === '') throw new SubjectError(`${flag} "${key}" has an empty value`);
  return [key, value];
}

/**
 * Parses repeated `key=value` flags into a subject that has exactly the manifest's subject keys.
 * Values are kept verbatim (they only ever reach SQL as bind parameters).
 */
export function parseSubject(
  pairs: readonly string[],
  subjectKeys: readonly string[],
  flag = '--subject',
): Subject {
  const subject: Subject = {};
  for (const pair of pairs) {
    const hint = `subject keys: ${subjectKeys.join(', ')}`;
    const [key, value] = parsePair(pair, subjectKeys, flag, hint, subject);
    subject[key] = value;
  }
  const missing = subjectKeys.filter((key) => !(key in subject));
  if (missing.length > 0) {
    throw new SubjectError(
      `${flag} is missing ${missing.map((key) => `"${key}"`).join(', ')}`,
      `pass ${subjectKeys.map((key) => `${flag} ${key}=…`).join(' ')}`,
    );
  }
  // Return keys in manifest order, whatever order the flags came in.
  return Object.fromEntries(subjectKeys.map((key) => [key, subject[key]!]));
}

/** Parses `--rewrite-subject` pairs: any subset of the subject keys (a repeated key: the last wins). */
export function parseSubjectRewrite(pairs: readonly string[], subjectKeys: readonly string[]): Subject {
  const rewrite: Subject = {};
  for (const pair of pairs) {
    const [key, value] = parsePair(pair, subjectKeys, '--rewrite-subject', undefined);
    rewrite[key] = value;
  }
  return rewrite;
}

/** A short label for file names and logs: `tenant_id=t1,user_id=u7`. */
export function subjectLabel(subject: Subject): string {
  return Object.entries(subject)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}
