import { relative } from 'node:path';

import type { BrowserContext, Page } from 'playwright-core';

import { writeFileAtomically } from '../../../capsule/atomic-file.js';
import { scrubSecrets } from '../../../secrets.js';
import { BrowserUnavailable } from '../../browser-session.js';
import { type ParsedProbe, type ProbeContext, type ProbeEvent, probeEventBase } from '../types.js';
import { displayUrl } from './display-url.js';
import { collectEvidence, ignorePatterns, type PageEvidence } from './evidence.js';
import { exercisePage, firstLine } from './exercise.js';
import { screenshotPath } from './screenshot.js';

/** Time the screenshot may take after the probe's own timeout (a huge page can take seconds). */
const screenshotTimeoutMs = 10_000;

/**
 * A browser probe (docs/run.md): opens `url` in a fresh context of the run's Chromium, checks the status,
 * runs the steps, waits for `expectText`/`expectSelector`, and fails on console errors or uncaught page
 * errors unless `allowConsoleErrors`. Whatever happens, the evidence is kept and a screenshot taken.
 * `timeoutSeconds` bounds navigation, steps and checks (launching the browser is not counted).
 */
export async function runBrowserProbe(probe: ParsedProbe, context: ProbeContext): Promise<ProbeEvent> {
  const event: ProbeEvent = {
    ...probeEventBase(probe, new Date().toISOString()),
    url: displayUrl(probe.url!),
    status: null,
    expectStatus: probe.expectStatus,
    ...(probe.expectText === undefined ? {} : { expectText: probe.expectText }),
    ...(probe.expectSelector === undefined ? {} : { expectSelector: probe.expectSelector }),
    steps: [],
    screenshot: null,
  };
  const started = performance.now();
  let browserContext: BrowserContext | undefined;
  let interrupted = false;
  let stopped!: () => void;
  // Settles when the probe is stopped: Playwright never settles a newPage() whose context was closed
  // meanwhile, so that wait must lose this race rather than hold the run forever.
  const whenStopped = new Promise<never>((_, reject) => (stopped = () => reject(new ProbeStopped())));
  whenStopped.catch(() => {});
  const stop = (): void => {
    interrupted = true;
    stopped();
    void browserContext?.close().catch(() => {});
  };
  context.signal?.addEventListener('abort', stop, { once: true });
  // Every action has its own timeout; this guard makes sure nothing holds the run past the deadline.
  const guard = setTimeout(stop, probe.timeoutSeconds * 1000 + screenshotTimeoutMs + 5000);
  try {
    if (!context.browser) throw new BrowserUnavailable('no browser session in this run');
    const browser = await context.browser.browser();
    event.browser = `chromium ${browser.version()}`;
    if (context.signal?.aborted) throw new Error('interrupted');
    // The page's requests go through the probe's egress proxy like every other step's; Chromium bypasses
    // loopback by itself, so the app's own pages load directly (docs/run.md, egress guard).
    browserContext = await browser.newContext({
      viewport: probe.viewport,
      ...(context.proxy ? { proxy: { server: context.proxy.url } } : {}),
    });
    // A stop while the context was being made had nothing to close: the page must not load for minutes.
    if (interrupted) throw new ProbeStopped();
    const opening = browserContext.newPage();
    opening.catch(() => {});
    const page = await Promise.race([opening, whenStopped]);
    const evidence = collectEvidence(page, ignorePatterns(probe.ignoreConsole));
    const deadline = Date.now() + probe.timeoutSeconds * 1000;
    try {
      event.message = await exercisePage(page, probe, event, deadline, evidence);
    } catch (error) {
      event.message = firstLine(error);
    }
    if (!interrupted) {
      event.finalUrl = displayUrl(page.url());
      await takeScreenshot(page, probe, context, event);
    }
    event.consoleErrors = evidence.consoleErrors;
    event.pageErrors = evidence.pageErrors;
    event.failedRequests = evidence.failedRequests;
    if (Object.values(evidence.dropped).some((n) => n > 0)) event.droppedEvidence = evidence.dropped;
    if (!event.message && !probe.allowConsoleErrors) event.message = consoleFailure(evidence);
  } catch (error) {
    if (!(error instanceof ProbeStopped)) event.message = firstLine(error);
  } finally {
    clearTimeout(guard);
    context.signal?.removeEventListener('abort', stop);
    // Bounded: a context whose page never opened may never report closed (the session's close ends it).
    let closeTimer: NodeJS.Timeout | undefined;
    await Promise.race([
      browserContext?.close().catch(() => {}),
      new Promise((done) => (closeTimer = setTimeout(done, 5000))),
    ]);
    clearTimeout(closeTimer);
  }
  // The guard fired: keep the step's own failure (a load that timed out) when there is one.
  if (interrupted && !context.signal?.aborted) event.message ??= `no result within ${probe.timeoutSeconds}s`;
  else if (interrupted) event.message = 'interrupted';
  event.success = event.message === undefined;
  if (event.message) event.message = scrubSecrets(event.message);
  event.durationMs = Math.round(performance.now() - started);
  return event;
}

/** Thrown when the probe was stopped before its page was opened; the message says why it stopped. */
class ProbeStopped extends Error {}

/** A PNG of the viewport next to the trace; none without a trace file, or when `screenshot: false`. */
async function takeScreenshot(
  page: Page,
  probe: ParsedProbe,
  context: ProbeContext,
  event: ProbeEvent,
): Promise<void> {
  if (!probe.screenshot || !context.tracePath) return;
  const started = performance.now();
  const path = screenshotPath(context.tracePath, probe.name);
  let message: string | undefined;
  try {
    await writeFileAtomically(path, await page.screenshot({ timeout: screenshotTimeoutMs, type: 'png' }));
    event.screenshot = relative(context.cwd ?? process.cwd(), path) || path;
  } catch (error) {
    message = `screenshot failed: ${firstLine(error)}`;
  }
  event.steps!.push({
    action: 'screenshot',
    target: event.screenshot ?? path,
    durationMs: Math.round(performance.now() - started),
    ok: message === undefined,
    ...(message ? { message } : {}),
  });
}

function consoleFailure(evidence: PageEvidence): string | undefined {
  const { consoleErrors, pageErrors } = evidence;
  if (pageErrors.length > 0) {
    return `${pageErrors.length} uncaught page error(s), first: ${pageErrors[0]} (allowConsoleErrors: true to allow)`;
  }
  if (consoleErrors.length > 0) {
    return `${consoleErrors.length} console error(s), first: ${consoleErrors[0]!.text} (allowConsoleErrors: true to allow)`;
  }
  return undefined;
}
