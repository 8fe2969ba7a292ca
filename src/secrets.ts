/**
 * Process-wide registry of secret strings (database passwords, pseudo-user passwords).
 * Everything that leaves the process as text — error lines, logs, traces, console tables — is passed
 * through `scrubSecrets` as a second line of defence behind `DatabaseUrl`'s masked rendering.
 */
const secrets = new Set<string>();

export function registerSecret(secret: string | undefined | null): void {
  // Very short values would scrub innocent text ("a", "1"); they are also not worth protecting this way.
  if (secret && secret.length >= 3) {
    secrets.add(secret);
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) secrets.add(encoded);
    for (const form of new Set([secret, encoded]))
      for (const fragment of base64Fragments(form)) secrets.add(fragment);
  }
}

/**
 * The base64 text a secret becomes inside ANY base64-encoded string (e.g. a whole URL, base64'd by a
 * child and printed): one fragment per byte alignment (0, 1, 2), keeping only the characters that
 * depend on the secret's bytes alone; standard and URL-safe alphabets. Fragments under 8 characters
 * are skipped (they would scrub innocent text).
 */
export function base64Fragments(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const fragments: string[] = [];
  for (let offset = 0; offset < 3; offset += 1) {
    const text = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const first = Math.ceil((8 * offset) / 6);
    const end = Math.floor((8 * (offset + bytes.length)) / 6);
    const fragment = text.slice(first, end);
    if (fragment.length >= 8) {
      fragments.push(fragment);
      const urlSafe = fragment.replace(/\+/g, '-').replace(/\//g, '_');
      if (urlSafe !== fragment) fragments.push(urlSafe);
    }
  }
  return fragments;
}

export function scrubSecrets(text: string): string {
  let out = text;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join('***');
  }
  return out;
}
