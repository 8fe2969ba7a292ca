import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

import { validateAgainstSchema } from '../../src/validation.js';
import { writeApp } from '../integration/run/helpers.js';
import { alive, chromiumDescendants, describeWithChromiumSite } from '../setup/browser.js';
import { runCli } from '../setup/cli.js';

const runJs = fileURLToPath(new URL('../../bin/run.js', import.meta.url));
await describeWithChromiumSite('run with browser probes (built CLI)', (site) => {
  // A probe hangs on a page that never answers; the signal arrives while Chromium is waiting for it.
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    '%s mid-probe: exit %d, trace written, no Chromium process outlives run',
    async (signal, code) => {
      const app = await writeApp({
        manifest: {
          probes: [
            { name: 'home', kind: 'browser', url: `${site.base}/`, expectText: 'Welcome' },
            { name: 'hangs', kind: 'browser', url: `${site.base}/slow`, timeoutSeconds: 120 },
            { name: 'after', kind: 'browser', url: `${site.base}/` },
          ],
        },
      });
      const trace = join(app.dir, 'trace.json');
      const child = execa(
        'node',
        [runJs, 'run', '--app', join(app.dir, 'app.json'), '--skip-materialize', '--trace-out', trace],
        {
          reject: false,
          env: { NO_COLOR: '1' },
          // execa SIGKILLs a SIGTERM'd child still running after 5 s (its default): on a loaded machine
          // stopping Chromium and writing the trace took longer, and the test saw no exit code at all.
          forceKillAfterDelay: 60_000,
        },
      );
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const seen = new Set<number>();
      for (let i = 0; i < 600 && !stderr.includes('▶ probe hangs'); i++) {
        for (const pid of chromiumDescendants(child.pid!)) seen.add(pid);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      for (const pid of chromiumDescendants(child.pid!)) seen.add(pid);
      expect(seen.size).toBeGreaterThan(0);
      child.kill(signal);
      const result = await child;
      expect(result.exitCode).toBe(code);
      expect(String(result.stderr)).toContain(`error: interrupted by ${signal}`);
      expect(String(result.stderr)).toMatch(/^ {2}hangs: interrupted \(/m);
      // The page's request through the egress guard was cut: mockttp's own line stays out (red team D6).
      expect(String(result.stderr)).not.toContain('Failed to handle request');
      expect([...seen].filter(alive)).toEqual([]);
      const written = JSON.parse(await readFile(trace, 'utf8'));
      expect(validateAgainstSchema('trace', written)).toEqual([]);
      expect(written).toMatchObject({ interrupted: signal, gate: 'block' });
      expect(
        written.events.map((event: { name: string; message?: string }) => [event.name, event.message]),
      ).toEqual([
        ['home', undefined],
        ['hangs', 'interrupted'],
        ['after', `not run: interrupted by ${signal}`],
      ]);
    },
  );

  it('SIGKILL of run mid-probe: Chromium exits by itself (its control pipe closes)', async () => {
    const ownTmp = await mkdtemp(join(tmpdir(), 'browser-kill-'));
    const app = await writeApp({
      manifest: {
        probes: [{ name: 'hangs', kind: 'browser', url: `${site.base}/slow`, timeoutSeconds: 120 }],
      },
    });
    const child = execa('node', [runJs, 'run', '--app', join(app.dir, 'app.json'), '--skip-materialize'], {
      reject: false,
      // SIGKILL leaves Playwright no chance to remove Chromium's profile folder: keep it in a temp dir.
      env: { NO_COLOR: '1', TMPDIR: ownTmp },
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const seen = new Set<number>();
    for (let i = 0; i < 600 && !stderr.includes('▶ probe hangs'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (let i = 0; i < 100 && seen.size < 2; i++) {
      for (const pid of chromiumDescendants(child.pid!)) seen.add(pid);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(seen.size).toBeGreaterThan(0);
    child.kill('SIGKILL');
    await child;
    for (let i = 0; i < 50 && [...seen].some(alive); i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect([...seen].filter(alive)).toEqual([]);
    await rm(ownTmp, { recursive: true, force: true });
  });

  it('a probe that times out fails, and the run ends with no Chromium left', async () => {
    const app = await writeApp({
      manifest: { probes: [{ name: 'hangs', kind: 'browser', url: `${site.base}/slow`, timeoutSeconds: 2 }] },
    });
    const child = execa(
      'node',
      [runJs, 'run', '--app', join(app.dir, 'app.json'), '--skip-materialize', '--json'],
      {
        reject: false,
        env: { NO_COLOR: '1' },
      },
    );
    const seen = new Set<number>();
    while (child.exitCode === null) {
      for (const pid of chromiumDescendants(child.pid!)) seen.add(pid);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const result = await child;
    expect(result.exitCode).toBe(11);
    const output = JSON.parse(String(result.stdout));
    expect(output.trace.events[0].message).toBe(`load ${site.base}/slow: timed out (timeoutSeconds: 2)`);
    expect(seen.size).toBeGreaterThan(0);
    expect([...seen].filter(alive)).toEqual([]);
  });
});

describe('run with an unusable browser', () => {
  it.each([
    [
      'a missing file',
      '/nonexistent/chromium',
      2,
      /^error: Chromium at \/nonexistent\/chromium \(from \$REPLAY_ENV_CHROMIUM\) is not an executable file\nhint: point REPLAY_ENV_CHROMIUM at a working Chromium/,
    ],
  ])(
    'REPLAY_ENV_CHROMIUM naming %s is one error line with a hint, before anything runs',
    async (_, path, code, stderr) => {
      const app = await writeApp({
        manifest: { probes: [{ name: 'home', kind: 'browser', url: 'http://127.0.0.1:9/' }] },
      });
      const result = await runCli(['run', '--app', join(app.dir, 'app.json'), '--skip-materialize'], {
        env: { REPLAY_ENV_CHROMIUM: path },
      });
      expect(result.exitCode).toBe(code);
      expect(result.stderr).toMatch(stderr);
      expect(result.stdout).toBe('');
    },
  );

  it('a binary that is not a browser fails each browser probe with what happened and what to do', async () => {
    const app = await writeApp({
      manifest: { probes: [{ name: 'home', kind: 'browser', url: 'http://127.0.0.1:9/' }] },
    });
    const result = await runCli(['run', '--app', join(app.dir, 'app.json'), '--skip-materialize', '--json'], {
      env: { REPLAY_ENV_CHROMIUM: '/bin/false' },
    });
    expect(result.exitCode).toBe(11);
    const output = JSON.parse(result.stdout);
    expect(output.trace.events[0].message).toBe(
      'Chromium at /bin/false (from $REPLAY_ENV_CHROMIUM) did not start (exited: exitCode=1, signal=null); point REPLAY_ENV_CHROMIUM at a working Chromium or Chrome binary, or unset it to use the bundled one',
    );
  });
});
