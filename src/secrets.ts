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
  }
}

export function scrubSecrets(text: string): string {
  let out = text;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join('***');
  }
  return out;
}
