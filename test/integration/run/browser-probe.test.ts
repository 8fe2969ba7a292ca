import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

import type { BrowserContextOptions } from 'playwright-core';
import { expect, it } from 'vitest';

import type { ProbeEvent } from '../../../src/generated/trace.js';
import { BrowserSession, browserSource } from '../../../src/run/browser-session.js';
import { runBrowserProbe } from '../../../src/run/probes/browser/run-browser-probe.js';
import { runReplay } from '../../../src/services/run.js';
import { validateAgainstSchema } from '../../../src/validation.js';
import { chromiumDescendants, describeWithChromiumSite, pngSize } from '../../setup/browser.js';
import { writeApp } from './helpers.js';

// Real headless Chromium against a real local site; no database is needed (--skip-materialize).
await describeWithChromiumSite('browser probes', (site) => {
  /** Runs the probes; checks the trace against its schema and that no Chromium outlived the run. */
  async function run(probes: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}) {
    const app = await writeApp({ manifest: { probes, ...extra } });
    const traceOut = join(app.dir, 'out', 'trace.json');
    const result = await runReplay({
      manifest: app.manifest,
      skipMaterialize: true,
      traceOut,
      junitOut: join(app.dir, 'out', 'junit.xml'),
      cwd: app.dir,
      env: { ...process.env, APP_REPLAY_DATABASE_URL: '' },
    });
    expect(validateAgainstSchema('trace', result.trace)).toEqual([]);
    expect(chromiumDescendants(process.pid)).toEqual([]);
    const events = result.trace.events as ProbeEvent[];
    return { result, events, dir: app.dir, event: (name: string) => events.find((e) => e.name === name)! };
  }

  it('a page showing the expected text passes, with a PNG screenshot of the page next to the trace', async () => {
    const { result, event, dir } = await run([
      {
        name: 'home',
        kind: 'browser',
        url: `${site.base}/`,
        expectText: 'Welcome to teamdesk',
        expectSelector: '#count',
        viewport: { width: 800, height: 600 },
      },
    ]);
    const home = event('home');
    expect(home).toMatchObject({
      success: true,
      probeKind: 'browser',
      status: 200,
      finalUrl: `${site.base}/`,
      consoleErrors: [],
      pageErrors: [],
      failedRequests: [],
      screenshot: join('out', 'trace.home.png'),
    });
    expect(home.browser).toMatch(/^chromium \d+\./);
    expect(home.steps!.map((step) => [step.action, step.ok])).toEqual([
      ['load', true],
      ['expectText', true],
      ['expectSelector', true],
      ['screenshot', true],
    ]);
    const png = join(dir, home.screenshot!);
    expect(pngSize(await readFile(png))).toEqual({ width: 800, height: 600 });
    expect((await stat(png)).mode & 0o777).toBe(0o600);
    expect(result.gate).not.toBe('block');
    expect(result.trace.facts).toMatchObject({
      'probe.home': 'pass',
      browser_console_errors: 0,
      browser_page_errors: 0,
      browser_failed_requests: 0,
    });
    const junit = await readFile(join(dir, 'out', 'junit.xml'), 'utf8');
    expect(junit).toContain(`screenshot: ${join('out', 'trace.home.png')}`);
  });

  it('a console error blocks the gate unless allowed; ignoreConsole leaves matching ones out', async () => {
    const url = `${site.base}/console-error`;
    const { result, event } = await run([
      { name: 'strict', kind: 'browser', url, expectText: 'Dashboard' },
      { name: 'allowed', kind: 'browser', url, expectText: 'Dashboard', allowConsoleErrors: true },
      { name: 'ignored', kind: 'browser', url, ignoreConsole: ['quota exceeded$'] },
    ]);
    expect(event('strict').success).toBe(false);
    expect(event('strict').message).toBe(
      '1 console error(s), first: widget failed to load: quota exceeded (allowConsoleErrors: true to allow)',
    );
    expect(event('strict').consoleErrors).toEqual([
      {
        text: 'widget failed to load: quota exceeded',
        location: expect.stringContaining('/console-error:1'),
      },
    ]);
    expect(event('allowed')).toMatchObject({ success: true, consoleErrors: [{ text: expect.any(String) }] });
    expect(event('ignored')).toMatchObject({ success: true, consoleErrors: [] });
    expect(result.gate).toBe('block');
    expect(result.exitCode).toBe(11);
    expect(result.gateReasons).toContain('block: required_probes_failed > 0 (required_probes_failed = 1)');
    expect(result.trace.facts.browser_console_errors).toBe(2);
  });

  it('an uncaught page error fails the probe and is counted', async () => {
    const { result, event } = await run([
      { name: 'throws', kind: 'browser', url: `${site.base}/page-error`, expectText: 'Dashboard' },
    ]);
    expect(event('throws').success).toBe(false);
    expect(event('throws').pageErrors).toEqual(['Error: undefined is not a function']);
    expect(event('throws').message).toMatch(/^1 uncaught page error\(s\), first: Error: undefined is not/);
    expect(result.trace.facts.browser_page_errors).toBe(1);
  });

  it('a page without the expected text fails with a message naming the text, still with a screenshot', async () => {
    const { result, event } = await run([
      {
        name: 'closed',
        kind: 'browser',
        url: `${site.base}/`,
        expectText: 'Closed tickets',
        timeoutSeconds: 2,
      },
      {
        name: 'no-button',
        kind: 'browser',
        url: `${site.base}/`,
        expectSelector: 'button.archive',
        timeoutSeconds: 1,
      },
    ]);
    expect(event('closed').message).toBe(
      'text "Closed tickets" not found on the page: timed out (timeoutSeconds: 2)',
    );
    expect(event('closed').screenshot).toBe(join('out', 'trace.closed.png'));
    expect(event('no-button').message).toBe(
      'no visible element matches "button.archive": timed out (timeoutSeconds: 1)',
    );
    expect(result.gate).toBe('block');
    expect(result.trace.judges.find((judge) => judge.id === 'probe_outcomes')!.reasons[0]).toContain(
      'Closed tickets',
    );
  });

  it('text that appears after the load is waited for', async () => {
    const { event } = await run([
      { name: 'late', kind: 'browser', url: `${site.base}/late-text`, expectText: 'Loaded late' },
    ]);
    expect(event('late').success).toBe(true);
  });

  it('steps fill and click through a form to the page it submits to', async () => {
    const { event, dir } = await run([
      {
        name: 'new-ticket',
        kind: 'browser',
        url: `${site.base}/form`,
        steps: [
          { fill: '#subject', value: 'Printer on fire' },
          { click: '#save' },
          { waitFor: { text: 'Ticket created' } },
          { waitFor: { selector: 'p#subject' } },
        ],
        expectText: 'Printer on fire',
      },
    ]);
    const probe = event('new-ticket');
    expect(probe.success).toBe(true);
    expect(probe.finalUrl).toBe(`${site.base}/created?subject=Printer+on+fire`);
    expect(probe.steps!.map((step) => [step.action, step.target])).toEqual([
      ['load', `${site.base}/form`],
      ['fill', '#subject'],
      ['click', '#save'],
      ['waitFor', 'text "Ticket created"'],
      ['waitFor', 'p#subject'],
      ['expectText', 'Printer on fire'],
      ['screenshot', join('out', 'trace.new-ticket.png')],
    ]);
    // The fill value is not in the step list (it may be a password).
    expect(JSON.stringify(probe.steps)).not.toContain('Printer on fire"}');
    expect(pngSize(await readFile(join(dir, probe.screenshot!)))).toEqual({ width: 1280, height: 720 });
  });

  it('a failing step names its number, action and target', async () => {
    const { event } = await run([
      {
        name: 'bad-step',
        kind: 'browser',
        url: `${site.base}/form`,
        steps: [{ click: '#does-not-exist' }],
        timeoutSeconds: 1,
      },
    ]);
    expect(event('bad-step').message).toBe('step 1 (click #does-not-exist): timed out (timeoutSeconds: 1)');
  });

  it('records failed requests; an expected 404 page is not one of them', async () => {
    const { result, event } = await run([
      { name: 'asset', kind: 'browser', url: `${site.base}/missing-asset`, allowConsoleErrors: true },
      { name: 'gone', kind: 'browser', url: `${site.base}/no-such-page`, expectStatus: 404 },
      { name: 'wrong-status', kind: 'browser', url: `${site.base}/no-such-page` },
    ]);
    expect(event('asset').failedRequests).toEqual([
      { url: `${site.base}/nope.png`, method: 'GET', reason: 'HTTP 404' },
    ]);
    expect(event('gone')).toMatchObject({ success: true, status: 404, failedRequests: [] });
    expect(event('wrong-status')).toMatchObject({ success: false, status: 404 });
    expect(event('wrong-status').message).toBe(`load ${site.base}/no-such-page: status 404, expected 200`);
    expect(result.trace.facts.browser_failed_requests).toBe(2);
    expect(result.gateReasons).toContain('warn: browser_failed_requests > 0 (browser_failed_requests = 2)');
  });

  it('goes through the egress guard: an outside page is denied and recorded, a stubbed host answers', async () => {
    const { event, result } = await run(
      [
        { name: 'outside', kind: 'browser', url: 'http://mail.provider.test/inbox?token=browser-secret' },
        {
          name: 'stubbed',
          kind: 'browser',
          url: 'http://status.stub.test/',
          expectText: 'all systems normal',
        },
        { name: 'local', kind: 'browser', url: `${site.base}/`, expectText: 'Welcome to teamdesk' },
      ],
      {
        egress: {
          stubs: [
            {
              host: 'status.stub.test',
              status: 200,
              headers: { 'content-type': 'text/html' },
              body: '<p>all systems normal</p>',
            },
          ],
        },
      },
    );
    expect(event('outside')).toMatchObject({ success: false, status: 403 });
    expect(event('stubbed')).toMatchObject({ success: true, status: 200 });
    expect(event('local')).toMatchObject({ success: true, status: 200 });
    const egress = result.trace.events
      .filter((e) => e.kind === 'egress')
      .map((e) => {
        const x = e as unknown as { name: string; host: string; path: string; verdict: string };
        return `${x.name} ${x.host}${x.path} ${x.verdict}`;
      });
    expect(egress).toContain('outside mail.provider.test/inbox denied');
    expect(egress).toContain('stubbed status.stub.test/ stubbed');
    expect(egress.some((line) => line.includes('127.0.0.1'))).toBe(false);
    // Egress events never carry the query string (the probe's own URL is the manifest's, shown as written).
    expect(egress.join('\n')).not.toContain('browser-secret');
  });

  it('keeps at most 50 console errors per probe but counts them all', async () => {
    const { result, event } = await run([
      { name: 'noisy', kind: 'browser', url: `${site.base}/noisy`, allowConsoleErrors: true },
    ]);
    expect(event('noisy').consoleErrors).toHaveLength(50);
    expect(event('noisy').droppedEvidence).toEqual({ consoleErrors: 70, pageErrors: 0, failedRequests: 0 });
    expect(result.trace.facts.browser_console_errors).toBe(120);
  });

  it('without a trace file no screenshot is written; screenshot: false turns it off', async () => {
    const app = await writeApp({
      manifest: { probes: [{ name: 'home', kind: 'browser', url: `${site.base}/` }] },
    });
    const result = await runReplay({ manifest: app.manifest, skipMaterialize: true, cwd: app.dir });
    expect((result.trace.events[0] as ProbeEvent).screenshot).toBeNull();
    const off = await run([{ name: 'off', kind: 'browser', url: `${site.base}/`, screenshot: false }]);
    expect(off.event('off')).toMatchObject({ success: true, screenshot: null });
    expect(chromiumDescendants(process.pid)).toEqual([]);
  });

  it('an abort while Chromium is still starting ends the probe and leaves no Chromium', async () => {
    const app = await writeApp({
      manifest: { probes: [{ name: 'home', kind: 'browser', url: `${site.base}/` }] },
    });
    const controller = new AbortController();
    const running = runReplay({
      manifest: app.manifest,
      skipMaterialize: true,
      cwd: app.dir,
      signal: controller.signal,
    });
    for (let i = 0; i < 200 && chromiumDescendants(process.pid).length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    controller.abort('SIGINT');
    await expect(running).rejects.toThrow('interrupted by SIGINT');
    expect(chromiumDescendants(process.pid)).toEqual([]);
  });

  it.each(['newContext', 'newPage'] as const)(
    'an abort while %s is pending ends the probe at once, not at its timeout (or never)',
    async (pending) => {
      const app = await writeApp({
        manifest: {
          probes: [{ name: 'hangs', kind: 'browser', url: `${site.base}/slow`, timeoutSeconds: 120 }],
        },
      });
      const session = new BrowserSession(browserSource(process.env, undefined));
      const controller = new AbortController();
      const real = await session.browser();
      // The real Chromium. newContext: the abort comes while it is still pending. newPage: the abort comes
      // as the page is asked for; Playwright never settles a newPage whose context is closed meanwhile.
      const browser = new Proxy(real, {
        get(target, key) {
          if (key !== 'newContext') return Reflect.get(target, key, target) as unknown;
          return async (options: BrowserContextOptions) => {
            const made = await target.newContext(options);
            if (pending === 'newContext') {
              controller.abort('SIGINT');
              return made;
            }
            return new Proxy(made, {
              get(context, name) {
                if (name !== 'newPage') return Reflect.get(context, name, context) as unknown;
                return () => {
                  const page = context.newPage();
                  controller.abort('SIGINT');
                  return page;
                };
              },
            });
          };
        },
      });
      const started = performance.now();
      try {
        const event = await runBrowserProbe(app.manifest.probes[0]!, {
          manifest: app.manifest,
          env: {},
          databaseUrl: undefined,
          graceMs: 1000,
          signal: controller.signal,
          browser: { browser: async () => browser } as unknown as BrowserSession,
        });
        expect(event).toMatchObject({ success: false, message: 'interrupted', steps: [] });
        expect(performance.now() - started).toBeLessThan(60_000);
      } finally {
        await session.close();
      }
      expect(chromiumDescendants(process.pid)).toEqual([]);
    },
  );

  it('each probe gets a fresh context: no cookies carried over from the probe before', async () => {
    const url = `${site.base}/cookie`;
    const { event } = await run([
      { name: 'first', kind: 'browser', url, expectText: 'no cookie' },
      { name: 'second', kind: 'browser', url, expectText: 'no cookie', timeoutSeconds: 3 },
    ]);
    expect(event('first').success).toBe(true);
    expect(event('second').success).toBe(true);
  });
});
