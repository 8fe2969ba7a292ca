import { accessSync, constants, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Browser } from 'playwright-core';

import { UsageError } from '../errors.js';
import type { ParsedManifest } from '../manifest/index.js';
import { inheritedEnv } from './child-env.js';
import { bundledChromium } from './probes/browser/bundled-chromium.js';

/** Where the Chromium for browser probes comes from, in order of precedence. */
export type BrowserSource =
  { kind: 'env'; path: string } | { kind: 'manifest'; path: string } | { kind: 'bundled' };

export const chromiumEnvVar = 'REPLAY_ENV_CHROMIUM';

/** `$REPLAY_ENV_CHROMIUM` (this machine's choice) wins over the manifest's `browser.executablePath`. */
export function browserSource(env: NodeJS.ProcessEnv, manifestPath: string | undefined): BrowserSource {
  const fromEnv = env[chromiumEnvVar];
  if (fromEnv) return { kind: 'env', path: fromEnv };
  if (manifestPath) return { kind: 'manifest', path: manifestPath };
  return { kind: 'bundled' };
}

/**
 * Chromium flags. Playwright already runs headless without a sandbox (needed as root) and adds its own
 * automation flags; these stop everything a browser does on its own on the network (updates, sync,
 * safe-browsing lists, QUIC probes), so a probe's failed requests are the page's, not Chrome's.
 */
const chromiumArgs = [
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-domain-reliability',
  '--no-pings',
  '--no-zygote',
];

/** The run's browser session: only when the manifest has browser probes (nothing is loaded otherwise). */
export function browserSessionFor(
  manifest: ParsedManifest,
  env: NodeJS.ProcessEnv,
): BrowserSession | undefined {
  if (!manifest.probes.some((probe) => probe.kind === 'browser')) return undefined;
  return new BrowserSession(browserSource(env, manifest.browserExecutable), env);
}

/**
 * Checked before anything runs: a browser the user named must exist and be executable (whether it
 * launches is only known by launching it; that failure is the probe's).
 */
export function assertNamedBrowser(manifest: ParsedManifest, env: NodeJS.ProcessEnv): void {
  if (!manifest.probes.some((probe) => probe.kind === 'browser')) return;
  const source = browserSource(env, manifest.browserExecutable);
  if (source.kind === 'bundled') return;
  try {
    accessSync(source.path, constants.X_OK);
    if (!statSync(source.path).isFile()) throw new Error('not a file');
  } catch {
    throw new UsageError(`${describe(source)} is not an executable file`, advice(source));
  }
}

/** Launch failures are probe failures with this text: what went wrong, and what to do. */
export class BrowserUnavailable extends Error {}

/**
 * One browser per run, launched on first use (playwright-core and the bundled Chromium are imported only
 * then), closed by `close()` — which the run calls on every way out. Each probe opens its own context.
 * Playwright starts Chromium as the leader of its own process group and SIGKILLs that group when this
 * process exits, so not even a second Ctrl-C (process.exit) leaves a Chromium behind.
 */
export class BrowserSession {
  private launching: Promise<Browser> | undefined;
  private closed = false;
  /** Chromium's own TMPDIR, removed after it closes: a Chromium killed at exit leaves files there. */
  private tempDir: string | undefined;

  constructor(
    private readonly source: BrowserSource,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** The running browser; rejects with BrowserUnavailable (the same one for every later probe). */
  browser(): Promise<Browser> {
    if (this.closed) return Promise.reject(new BrowserUnavailable('the run is ending; browser closed'));
    this.launching ??= this.launch();
    return this.launching;
  }

  /** Whether a launch was attempted (for tests and the run's timing). */
  get started(): boolean {
    return this.launching !== undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    const launching = this.launching;
    if (!launching) return;
    const browser = await launching.catch(() => undefined);
    // close() waits for Chromium to exit. A hung one must not hold the run: after 10 s we go on, and
    // Playwright's exit handler SIGKILLs its process group when this process exits.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      browser?.close().catch(() => {}),
      new Promise((done) => (timer = setTimeout(done, 10_000))),
    ]);
    clearTimeout(timer);
    if (this.tempDir) await rm(this.tempDir, { recursive: true, force: true }).catch(() => {});
  }

  private async launch(): Promise<Browser> {
    const executablePath = await this.executable();
    let playwright: typeof import('playwright-core');
    try {
      playwright = await import('playwright-core');
    } catch (error) {
      throw new BrowserUnavailable(
        `cannot load playwright-core (${(error as Error).message}); reinstall replay-env's dependencies (npm ci)`,
      );
    }
    this.tempDir = await mkdtemp(join(tmpdir(), 'replay-env-chromium-'));
    try {
      const browser = await playwright.chromium.launch({
        executablePath,
        args: chromiumArgs,
        headless: true,
        // Not this process's environment: a command could read Chromium's in /proc/<pid>/environ.
        env: { ...inheritedEnv(this.env), TMPDIR: this.tempDir },
        // The run handles Ctrl-C itself (stops children, writes the trace); Playwright must not exit for it.
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
        timeout: 60_000,
      });
      if (this.closed) {
        await browser.close().catch(() => {});
        throw new BrowserUnavailable('the run is ending; browser closed');
      }
      return browser;
    } catch (error) {
      if (error instanceof BrowserUnavailable) throw error;
      const reason = launchFailure((error as Error).message);
      throw new BrowserUnavailable(
        `${describe(this.source)} did not start (${reason}); ${advice(this.source)}`,
      );
    }
  }

  private async executable(): Promise<string> {
    if (this.source.kind === 'bundled') {
      try {
        return await bundledChromium(this.env);
      } catch (error) {
        throw new BrowserUnavailable(`${(error as Error).message}; ${advice(this.source)}`);
      }
    }
    return this.source.path;
  }
}

function describe(source: BrowserSource): string {
  if (source.kind === 'env') return `Chromium at ${source.path} (from $${chromiumEnvVar})`;
  if (source.kind === 'manifest')
    return `Chromium at ${source.path} (from the manifest's browser.executablePath)`;
  return 'the bundled Chromium (from @sparticuz/chromium)';
}

function advice(source: BrowserSource): string {
  if (source.kind === 'bundled') {
    return `set ${chromiumEnvVar} to a Chromium or Chrome binary (e.g. /usr/bin/chromium)`;
  }
  return `point ${source.kind === 'env' ? chromiumEnvVar : 'browser.executablePath'} at a working Chromium or Chrome binary, or unset it to use the bundled one`;
}

/**
 * The useful part of Playwright's launch error: its first line is generic ("Target … has been closed"),
 * the browser's own stderr and exit status are further down, in the call log.
 */
export function launchFailure(message: string): string {
  // eslint-disable-next-line no-control-regex -- the call log is coloured
  const plain = message.replace(/\u001b\[[0-9;]*m/g, '');
  const stderr = /\[err\] (.+)/.exec(plain)?.[1]?.trim();
  const exit = /process did exit: ([^>]+)>/.exec(plain)?.[1];
  const parts = [...(exit ? [`exited: ${exit}`] : []), ...(stderr ? [`stderr: ${stderr}`] : [])];
  const text = parts.length > 0 ? parts.join('; ') : (plain.split('\n')[0] ?? 'failed');
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
