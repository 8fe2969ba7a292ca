import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe } from 'vitest';

import { BrowserSession, browserSource } from '../../src/run/browser-session.js';

const siteScript = fileURLToPath(new URL('../fixtures/browser/site.js', import.meta.url));

/**
 * Whether this machine can run a real headless Chromium (the one `run` would use). Tests that need it
 * skip with this reason when it cannot — never silently pass.
 */
export async function chromiumAvailability(): Promise<{ ok: true } | { ok: false; reason: string }> {
  const session = new BrowserSession(browserSource(process.env, undefined));
  try {
    await session.browser();
    return { ok: true };
  } catch (error) {
    const reason = `Chromium cannot launch here: ${(error as Error).message}`;
    console.warn(`skipping browser tests: ${reason}`);
    return { ok: false, reason };
  } finally {
    await session.close();
  }
}

/** The fixture site (test/fixtures/browser/site.js) in a child process, on a free loopback port. */
export async function startSite(): Promise<{ base: string; stop: () => Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, [siteScript], {
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = /listening on (\d+)/.exec(text);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`site exited with ${code}`)));
  });
  return {
    base: `http://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The fixture site of a `describeWithChromiumSite` suite: its base URL, valid while the suite runs. */
export interface FixtureSite {
  readonly base: string;
}

/**
 * A suite that needs a real Chromium and the fixture site: skipped, with Chromium's reason in its title,
 * where Chromium cannot launch; otherwise the site runs from the suite's first test to its last.
 */
export async function describeWithChromiumSite(
  title: string,
  tests: (site: FixtureSite) => void,
): Promise<void> {
  const chromium = await chromiumAvailability();
  const name = chromium.ok ? title : `${title} (SKIPPED: ${chromium.reason})`;
  describe.skipIf(!chromium.ok)(name, () => {
    let started: Awaited<ReturnType<typeof startSite>> | undefined;
    beforeAll(async () => {
      started = await startSite();
    });
    afterAll(async () => {
      await started?.stop();
    });
    tests({
      get base() {
        return started!.base;
      },
    });
  });
}

/** Every live process descended from `root` (by parent pid, read from /proc). */
function descendants(root: number): Array<{ pid: number; comm: string }> {
  const children = new Map<number, number[]>();
  const comms = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      if (fields[0] === 'Z' || fields[0] === 'X') continue;
      const ppid = Number(fields[1]);
      comms.set(Number(entry), stat.slice(stat.indexOf('(') + 1, close));
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // Exited while we were reading.
    }
  }
  const found: Array<{ pid: number; comm: string }> = [];
  const stack = [root];
  while (stack.length > 0) {
    for (const child of children.get(stack.pop()!) ?? []) {
      found.push({ pid: child, comm: comms.get(child) ?? '?' });
      stack.push(child);
    }
  }
  return found;
}

/** Chromium processes (browser, renderers, GPU, zygotes) among a process's descendants. */
export function chromiumDescendants(root: number): number[] {
  return descendants(root)
    .filter((process) => /chrom/i.test(process.comm))
    .map((process) => process.pid);
}

/** Whether a pid is a live (non-zombie) process. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Width and height from a PNG's IHDR chunk; throws when the bytes are not a PNG. */
export function pngSize(bytes: Buffer): { width: number; height: number } {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (!bytes.subarray(0, 8).equals(signature)) throw new Error('not a PNG (bad signature)');
  if (bytes.subarray(12, 16).toString('latin1') !== 'IHDR') throw new Error('not a PNG (no IHDR first)');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}
