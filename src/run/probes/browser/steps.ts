import type { Page } from 'playwright-core';

import type { BrowserStep } from '../../../generated/manifest.js';
import type { BrowserStepResult } from '../../../generated/trace.js';

/** What a step acted on, for the trace: never a fill value (it may be a password). */
export function describeStep(step: BrowserStep): Pick<BrowserStepResult, 'action' | 'target'> {
  if ('goto' in step) return { action: 'goto', target: step.goto };
  if ('click' in step) return { action: 'click', target: step.click };
  if ('fill' in step) return { action: 'fill', target: step.fill };
  if ('press' in step)
    return { action: 'press', target: step.selector ? `${step.press} on ${step.selector}` : step.press };
  return step.waitFor.selector !== undefined
    ? { action: 'waitFor', target: step.waitFor.selector }
    : { action: 'waitFor', target: `text ${JSON.stringify(step.waitFor.text)}` };
}

/**
 * Runs one step with Playwright's auto-waiting (an element must be attached, visible, stable and enabled
 * before it is clicked or filled), bounded by `timeout` ms.
 */
export async function runStep(page: Page, step: BrowserStep, base: string, timeout: number): Promise<void> {
  if ('goto' in step) {
    await page.goto(new URL(step.goto, base).href, { timeout, waitUntil: 'load' });
  } else if ('click' in step) {
    await page.locator(step.click).first().click({ timeout });
  } else if ('fill' in step) {
    await page.locator(step.fill).first().fill(step.value, { timeout });
  } else if ('press' in step) {
    if (step.selector) await page.locator(step.selector).first().press(step.press, { timeout });
    else await page.keyboard.press(step.press);
  } else if (step.waitFor.selector !== undefined) {
    await page.locator(step.waitFor.selector).first().waitFor({ state: 'visible', timeout });
  } else {
    await waitForText(page, step.waitFor.text!, timeout);
  }
}

/**
 * Waits until an element showing `text` is visible: Playwright's text matching (whitespace collapsed), made
 * case-sensitive by a regular expression of the escaped text. Survives navigations, unlike a page function.
 */
export async function waitForText(page: Page, text: string, timeout: number): Promise<void> {
  const normalized = text.replace(/\s+/g, ' ').trim();
  const pattern = new RegExp(normalized.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  await page.getByText(pattern).first().waitFor({ state: 'visible', timeout });
}
