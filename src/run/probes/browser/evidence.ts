import type { Page, Request } from 'playwright-core';

import type { ConsoleMessage, FailedRequest } from '../../../generated/trace.js';
import { scrubSecrets } from '../../../secrets.js';
import { displayUrl } from './display-url.js';

/** Entries kept per list; a page that logs in a loop must not grow the trace without bound. */
const evidenceLimit = 50;
const textLimit = 500;

export interface PageEvidence {
  consoleErrors: ConsoleMessage[];
  pageErrors: string[];
  failedRequests: FailedRequest[];
  /** Entries beyond `evidenceLimit`, per list. */
  dropped: { consoleErrors: number; pageErrors: number; failedRequests: number };
  /**
   * The probe's own page answered with the expected status (a probe of a 404 page): its HTTP-status entry
   * and Chromium's console line about that status are not the page's errors.
   */
  forgetRequest(request: Request): void;
}

/**
 * Listens to a page for what a user's browser would show in its console and network panel:
 * `console.error` messages, uncaught exceptions, and requests that failed (a network error, or an HTTP
 * status >= 400). Console errors and page errors matching an `ignoreConsole` pattern are left out.
 * Texts are cut to 500 characters and scrubbed of registered secrets.
 */
export function collectEvidence(page: Page, ignore: RegExp[]): PageEvidence {
  const requests = new Map<FailedRequest, Request>();
  // Chromium also logs "Failed to load resource: … status of 404" for the document itself.
  const forgiven = new Set<string>();
  const forgivenConsole = (entry: ConsoleMessage): boolean =>
    entry.location !== undefined &&
    forgiven.has(entry.location) &&
    entry.text.startsWith('Failed to load resource: the server responded with a status of');
  const evidence: PageEvidence = {
    consoleErrors: [],
    pageErrors: [],
    failedRequests: [],
    dropped: { consoleErrors: 0, pageErrors: 0, failedRequests: 0 },
    forgetRequest(request) {
      for (const [entry, source] of requests) {
        if (source !== request || !entry.reason.startsWith('HTTP ')) continue;
        evidence.failedRequests.splice(evidence.failedRequests.indexOf(entry), 1);
        requests.delete(entry);
      }
      forgiven.add(clip(`${request.url()}:1`));
      evidence.consoleErrors = evidence.consoleErrors.filter((entry) => !forgivenConsole(entry));
    },
  };
  const keep = <K extends keyof PageEvidence['dropped']>(list: K, entry: PageEvidence[K][number]): void => {
    const kept = evidence[list] as Array<typeof entry>;
    if (kept.length < evidenceLimit) kept.push(entry);
    else evidence.dropped[list] += 1;
  };
  const ignored = (text: string): boolean => ignore.some((pattern) => pattern.test(text));
  page.on('console', (message) => {
    if (message.type() !== 'error' || ignored(message.text())) return;
    const { url, lineNumber } = message.location();
    const entry = {
      text: clip(message.text()),
      ...(url ? { location: clip(`${url}:${lineNumber + 1}`) } : {}),
    };
    if (!forgivenConsole(entry)) keep('consoleErrors', entry);
  });
  page.on('pageerror', (error) => {
    const text = error.stack?.split('\n')[0] ?? `${error.name}: ${error.message}`;
    if (ignored(text)) return;
    keep('pageErrors', clip(text));
  });
  const failed = (request: Request, reason: string): void => {
    const entry = { url: clip(displayUrl(request.url())), method: request.method(), reason: clip(reason) };
    if (evidence.failedRequests.length < evidenceLimit) requests.set(entry, request);
    keep('failedRequests', entry);
  };
  page.on('requestfailed', (request) => failed(request, request.failure()?.errorText ?? 'failed'));
  page.on('response', (response) => {
    if (response.status() >= 400) failed(response.request(), `HTTP ${response.status()}`);
  });
  return evidence;
}

/** Compiles ignoreConsole patterns (the manifest check has already rejected invalid ones). */
export function ignorePatterns(patterns: string[]): RegExp[] {
  return patterns.map((pattern) => new RegExp(pattern));
}

function clip(text: string): string {
  const scrubbed = scrubSecrets(text);
  return scrubbed.length > textLimit ? `${scrubbed.slice(0, textLimit)}…` : scrubbed;
}
