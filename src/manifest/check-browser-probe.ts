import type { Probe } from '../generated/manifest.js';

/**
 * Checks of a browser probe the schema cannot express: an http(s) url (a browser probe must not open
 * local files or other schemes), goto steps that resolve to http(s), and ignoreConsole entries that
 * compile as regular expressions. Returns `/pointer: message` errors.
 */
export function checkBrowserProbe(probe: Probe, pointer: string): string[] {
  const errors: string[] = [];
  let base: URL | undefined;
  if (probe.url) {
    base = parseHttpUrl(probe.url);
    if (!base) errors.push(`${pointer}/url: a browser probe needs an absolute http(s) URL`);
  }
  (probe.steps ?? []).forEach((step, index) => {
    if ('goto' in step && base && !parseHttpUrl(step.goto, base)) {
      errors.push(`${pointer}/steps/${index}/goto: not an http(s) URL (absolute, or relative to url)`);
    }
  });
  (probe.ignoreConsole ?? []).forEach((pattern, index) => {
    try {
      new RegExp(pattern);
    } catch (error) {
      errors.push(`${pointer}/ignoreConsole/${index}: not a regular expression: ${(error as Error).message}`);
    }
  });
  if (probe.kind === 'browser' && probe.expectBodyContains !== undefined) {
    errors.push(`${pointer}/expectBodyContains: browser probes use expectText`);
  }
  return errors;
}

/** The URL when it is http(s) (relative ones resolved against `base`), else undefined. */
export function parseHttpUrl(text: string, base?: URL): URL | undefined {
  try {
    const url = new URL(text, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}
