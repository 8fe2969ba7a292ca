import type { Page } from 'playwright-core';

import type { BrowserStepResult, ProbeEvent } from '../../../generated/trace.js';
import type { ParsedProbe } from '../../../manifest/index.js';
import { scrubSecrets } from '../../../secrets.js';
import { displayUrl } from './display-url.js';
import type { PageEvidence } from './evidence.js';
import { describeStep, runStep, waitForText } from './steps.js';

/**
 * Loads the page, runs the steps, checks expectText/expectSelector — each timed into `event.steps` —
 * and returns the first failure's message (undefined when everything held). Stops at the first failure.
 * Every action's timeout is what is left until `deadline`.
 */
export async function exercisePage(
  page: Page,
  probe: ParsedProbe,
  event: ProbeEvent,
  deadline: number,
  evidence: PageEvidence,
): Promise<string | undefined> {
  const results: BrowserStepResult[] = (event.steps ??= []);
  const remaining = (): number => Math.max(1, deadline - Date.now());
  const timed = async (
    step: Pick<BrowserStepResult, 'action' | 'target'>,
    work: () => Promise<string | undefined>,
  ): Promise<string | undefined> => {
    const started = performance.now();
    let message: string | undefined;
    try {
      message = await work();
    } catch (error) {
      message =
        (error as Error).name === 'TimeoutError'
          ? `timed out (timeoutSeconds: ${probe.timeoutSeconds})`
          : firstLine(error);
    }
    results.push({
      action: step.action,
      ...(step.target === undefined ? {} : { target: displayUrl(step.target) }),
      durationMs: Math.round(performance.now() - started),
      ok: message === undefined,
      ...(message ? { message: scrubSecrets(message) } : {}),
    });
    return message;
  };
  const url = probe.url!;

  const load = await timed({ action: 'load', target: url }, async () => {
    const response = await page.goto(url, { timeout: remaining(), waitUntil: 'load' });
    event.status = response?.status() ?? null;
    if (event.status !== probe.expectStatus) {
      return `status ${event.status ?? 'none'}, expected ${probe.expectStatus}`;
    }
    // The page's own expected status (a probe of a 404 page) is not a failed request.
    if (response) evidence.forgetRequest(response.request());
    return undefined;
  });
  if (load) return `load ${displayUrl(url)}: ${load}`;

  for (const [index, step] of (probe.steps ?? []).entries()) {
    const described = describeStep(step);
    const failed = await timed(described, async () => {
      await runStep(page, step, url, remaining());
      return undefined;
    });
    if (failed) return `step ${index + 1} (${described.action} ${described.target}): ${failed}`;
  }
  if (probe.expectText !== undefined) {
    const text = probe.expectText;
    const failed = await timed({ action: 'expectText', target: text }, async () => {
      await waitForText(page, text, remaining());
      return undefined;
    });
    if (failed) return `text ${JSON.stringify(text)} not found on the page: ${failed}`;
  }
  if (probe.expectSelector !== undefined) {
    const selector = probe.expectSelector;
    const failed = await timed({ action: 'expectSelector', target: selector }, async () => {
      await page.locator(selector).first().waitFor({ state: 'visible', timeout: remaining() });
      return undefined;
    });
    if (failed) return `no visible element matches ${JSON.stringify(selector)}: ${failed}`;
  }
  return undefined;
}

/** The first line of an error, without Playwright's "Call log" and ANSI colours. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  // eslint-disable-next-line no-control-regex -- stripping ANSI escapes is the point
  const plain = text.replace(/\u001b\[[0-9;]*m/g, '');
  const line = plain.split('\n').find((part) => part.trim() !== '') ?? 'failed';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
