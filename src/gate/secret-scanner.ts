/**
 * Finds credentials in capsule rows: well-known token shapes anywhere, and high-entropy values in fields
 * whose names say "secret". Reports where (a field path) and what kind — never the value itself.
 */

export interface SecretHit {
  /** Field path inside the row: `profile.tokens[0]`, `api_key`. */
  path: string;
  kind: string;
}

export interface SecretScanOptions {
  /** Bits per character at or above which a value in a secret-named field counts as a secret. */
  entropyThreshold?: number;
  /** Shortest value the entropy rule considers. */
  minLength?: number;
  /** Values that are redaction output (`<prefix><12 hex>` of the manifest's hash rules) are not secrets. */
  hashPrefixes?: string[];
}

export const defaultEntropyThreshold = 3.5;
export const defaultMinSecretLength = 20;

/** Token shapes, most specific first (the first that matches names the kind). */
const tokenPatterns: Array<{ kind: string; pattern: RegExp }> = [
  { kind: 'private key', pattern: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/ },
  { kind: 'slack token', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/ },
  { kind: 'github token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})/ },
  { kind: 'aws access key', pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { kind: 'stripe key', pattern: /\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}/ },
  { kind: 'api key (sk-)', pattern: /\bsk-(?:live-|test-|proj-|ant-)?[A-Za-z0-9_-]{16,}/ },
  { kind: 'jwt', pattern: /\beyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/ },
];

/** One quick test over a whole row's JSON text: rows without any hint are not parsed at all. */
const anyHint = new RegExp(
  [
    ...tokenPatterns.map(({ pattern }) => pattern.source),
    '"[^"]*(?:token|secret|passw|pwd|api_?key|apikey|private_?key|credential|auth)[^"]*"\\s*:',
  ].join('|'),
  'i',
);

/** Field names that hold secrets, after lower-casing and dropping everything but letters and digits. */
const secretFieldName =
  /(token|secret|passw|pwd|apikey|privatekey|credential|accesskey|clientsecret|authkey|auth$|signingkey)/;

/** Shannon entropy of a string in bits per character. */
export function shannonEntropy(text: string): number {
  if (text.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  let entropy = 0;
  const length = [...text].length;
  for (const n of counts.values()) {
    const p = n / length;
    entropy -= p * Math.log2(p);
  }
  return entropy === 0 ? 0 : entropy; // never -0
}

export function isSecretFieldName(name: string): boolean {
  return secretFieldName.test(name.toLowerCase().replace(/[^a-z0-9]/g, ''));
}

/** The kind of secret `value` is, or undefined. `field` is the name of the field holding it. */
export function detectSecret(
  value: string,
  field: string | undefined,
  options: SecretScanOptions = {},
): string | undefined {
  for (const { kind, pattern } of tokenPatterns) if (pattern.test(value)) return kind;
  if (field === undefined || !isSecretFieldName(field)) return undefined;
  if (value.length < (options.minLength ?? defaultMinSecretLength)) return undefined;
  if (isRedactionOutput(value, options.hashPrefixes ?? [])) return undefined;
  if (/\s/.test(value.trim())) return undefined; // prose ("please reset your password …"), not a key
  if (/^\d{4}-\d{2}-\d{2}[T ]\d/.test(value)) return undefined; // token_expires_at and friends
  if (shannonEntropy(value) >= (options.entropyThreshold ?? defaultEntropyThreshold)) {
    return 'high-entropy value in a secret-named field';
  }
  return undefined;
}

/** Quick pre-filter over a row's JSON text: false means the row cannot hold a finding. */
export function mayHoldSecret(rowText: string): boolean {
  return anyHint.test(rowText);
}

/** Every secret in a parsed row (any JSON value), with its field path. */
export function scanValue(value: unknown, options: SecretScanOptions = {}): SecretHit[] {
  const hits: SecretHit[] = [];
  walk(value, '', undefined, options, hits);
  return hits;
}

function walk(
  value: unknown,
  path: string,
  field: string | undefined,
  options: SecretScanOptions,
  hits: SecretHit[],
): void {
  if (typeof value === 'string') {
    const kind = detectSecret(value, field, options);
    if (kind) hits.push({ path: path || '(row)', kind });
  } else if (Array.isArray(value)) {
    // Array items inherit the field name: `api_keys: ["…"]` holds secrets as much as `api_key: "…"`.
    value.forEach((item, index) => walk(item, `${path}[${index}]`, field, options, hits));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      walk(item, path ? `${path}.${key}` : key, key, options, hits);
    }
  }
}

function isRedactionOutput(value: string, prefixes: string[]): boolean {
  return prefixes.some(
    (prefix) => value.startsWith(prefix) && /^[0-9a-f]{12}$/.test(value.slice(prefix.length)),
  );
}
