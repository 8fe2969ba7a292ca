import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

import { parseJsonOutput, runCli } from '../setup/cli.js';

interface DemoJson {
  verdict: string;
  serverStopped: boolean;
  filesRemoved: boolean;
  runExitCode: number;
  checkExitCode: number;
  dir: string;
  capsule: string;
  trace: string;
  steps: Array<{ title: string; command: string; exitCode: number }>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The whole loop, 8 steps with two embedded-server-backed runs: minutes on a loaded 2-core CI machine. */
const demoTimeoutMs = 280_000;

describe('replay-env demo', { timeout: 300_000 }, () => {
  it('runs the whole loop to a verdict and leaves nothing behind', async () => {
    // Its own TMPDIR, so other tests' temp dirs (run in parallel) cannot be mistaken for leftovers.
    const ownTmp = await mkdtemp(join(tmpdir(), 'demo-tmp-'));
    await chmod(ownTmp, 0o755); // as root the server runs as `postgres`, which must reach its cluster here
    const result = await runCli(['demo'], { env: { TMPDIR: ownTmp }, timeout: demoTimeoutMs });
    expect(result.stderr).not.toMatch(/^error:/m);
    expect(result.exitCode).toBe(0);
    for (const command of [
      'doctor',
      'export-postgres',
      'inspect',
      'materialize-postgres',
      'record',
      'run',
      'scenario add',
      'check',
    ]) {
      expect(result.stdout).toContain(`$ replay-env ${command} `);
    }
    expect(result.stdout).toMatch(
      /^Verdict: (continue|warn) \(run exited 0, check against the golden exited 0\)/m,
    );
    // The demo ends by saving a golden and re-checking it: the check compares with it and finds no difference.
    expect(result.stdout).toMatch(/golden saved: loop\/golden\/acme-ada-dev-dashboard\.json/);
    expect(result.stdout).toMatch(/│ acme-ada-dev-dashboard │ (continue|warn) +│ 0 +│/);
    expect(result.stdout).toContain('Server stopped; temporary files removed');
    // The sample app's web page, seen by a real headless Chromium, with its screenshot path.
    expect(result.stdout).toMatch(/^ {2}dashboard: ok \(/m);
    expect(result.stdout).toContain('screenshot dashboard: capsules/acme-ada-trace.dashboard.png');
    expect(await readdir(ownTmp)).toEqual([]);
  });

  // One run for --json, --dir and --keep: each demo run costs 20-50 s on a 2-core machine.
  it('--json --dir --keep: one JSON document, the files kept, a server reachable at the printed URL and stoppable as printed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'demo-keep-'));
    const result = await runCli(['demo', '--keep', '--dir', dir, '--json'], { timeout: demoTimeoutMs });
    expect(result.exitCode).toBe(0);
    const demo = parseJsonOutput<DemoJson & { kept: { replayUrl: string; pid: number; stop: string } }>(
      result.stdout,
    );
    expect(['continue', 'warn']).toContain(demo.verdict);
    expect(demo.steps.map((step) => step.exitCode)).toEqual(demo.steps.map(() => 0));
    expect(existsSync(demo.capsule)).toBe(true);
    const trace = JSON.parse(await readFile(demo.trace, 'utf8')) as {
      gate: string;
      events: Array<{ kind: string; name: string; verdict?: string; host?: string; path?: string }>;
      facts: Record<string, unknown>;
    };
    expect(trace.gate).toBe(demo.verdict);
    expect(trace.events.some((event) => event.name === 'dev-dashboard-session')).toBe(true);
    // The sample app's notify-customer command calls its mail provider over HTTPS: the manifest's stub answers.
    expect(trace.events.filter((event) => event.kind === 'egress')).toEqual([
      expect.objectContaining({
        name: 'notify-customer',
        method: 'POST',
        host: 'mail.provider.test',
        path: '/v1/send',
        verdict: 'stubbed',
      }),
    ]);
    expect(trace.facts).toMatchObject({ egress_stubbed: 1, egress_denied: 0, egress_allowed: 0 });
    // The golden the demo saved holds the session replay's verdict counts, and the check matched it.
    const golden = JSON.parse(
      await readFile(join(dir, 'loop/golden/acme-ada-dev-dashboard.json'), 'utf8'),
    ) as {
      evidence: { probes: Record<string, { kind: string; mismatched: number; queriesExecuted: number }> };
    };
    expect(golden.evidence.probes['dev-dashboard-session']).toMatchObject({ kind: 'session', mismatched: 0 });
    expect(golden.evidence.probes['dev-dashboard-session']!.queriesExecuted).toBeGreaterThan(0);
    expect(demo.checkExitCode).toBe(0);
    expect(await readFile(join(dir, 'loop/check.xml'), 'utf8')).toContain('name="acme-ada-dev-dashboard"');
    const dashboard = trace.events.find((event) => event.name === 'dashboard') as unknown as {
      success: boolean;
      screenshot: string;
      consoleErrors: unknown[];
    };
    expect(dashboard).toMatchObject({ success: true, consoleErrors: [] });
    const png = await readFile(join(demo.dir, dashboard.screenshot));
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(demo).toMatchObject({ serverStopped: false, filesRemoved: false, dir });

    expect(isAlive(demo.kept.pid)).toBe(true);
    const pg = await import('pg');
    const client = new pg.default.Client({ connectionString: demo.kept.replayUrl });
    await client.connect();
    const { rows } = await client.query<{ n: string }>(
      "select count(*)::text as n from users where user_id = 'dev-user'",
    );
    await client.end();
    expect(rows[0]!.n).toBe('1');
    // Stop it exactly as the demo told the user to.
    // It returns once the server has exited (CI saw `rm` race a server still writing its files).
    await execa('bash', ['-c', demo.kept.stop]);
    expect(isAlive(demo.kept.pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    const dataParent = /rm -rf (\S+)/.exec(demo.kept.stop)![1]!;
    expect(existsSync(dataParent)).toBe(false);
    // Run again (the server already gone): it still succeeds and removes what is there.
    await mkdir(join(dataParent, 'left'), { recursive: true });
    await execa('bash', ['-c', demo.kept.stop]);
    expect(existsSync(dataParent)).toBe(false);
  });
});
