import type { EgressStub } from '../generated/manifest.js';

/** A host name as compared: lower case, without the trailing dot of a fully qualified name. */
export function normalizeHost(host: string): string {
  const lower = host.toLowerCase();
  const bare = lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
  return bare.endsWith('.') ? bare.slice(0, -1) : bare;
}

/** `name` matches itself only; `*.suffix` matches any subdomain of suffix (not suffix itself). */
export function hostMatches(pattern: string, host: string): boolean {
  const wanted = normalizeHost(pattern);
  const actual = normalizeHost(host);
  if (wanted.startsWith('*.')) return actual.endsWith(wanted.slice(1)) && actual.length > wanted.length - 1;
  return actual === wanted;
}

/** Loopback destinations are never guarded: the app's own services and the replay database live there. */
export function isLoopbackHost(host: string): boolean {
  const name = normalizeHost(host);
  return (
    name === 'localhost' ||
    name.endsWith('.localhost') ||
    name === '::1' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)
  );
}

/** A stub's path: exact, or a prefix when it ends with `*`. The query string is never compared. */
function pathMatches(pattern: string | undefined, path: string): boolean {
  if (pattern === undefined) return true;
  return pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : path === pattern;
}

/** The first stub that answers this request, if any. */
export function findStub<T extends EgressStub>(
  stubs: readonly T[],
  request: { method: string; host: string; path: string },
): T | undefined {
  return stubs.find(
    (stub) =>
      hostMatches(stub.host, request.host) &&
      (stub.method === undefined || stub.method.toUpperCase() === request.method.toUpperCase()) &&
      pathMatches(stub.path, request.path),
  );
}
