import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { egressEvents, stepEvents } from '../../../src/egress/event.js';
import { runReplay } from '../../../src/services/run.js';
import { validateAgainstSchema } from '../../../src/validation.js';
import { writeApp } from './helpers.js';

const has = (tool: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`]);
    return true;
  } catch {
    return false;
  }
};
const curl = has('curl');
const python = has('python3');

// Every request names a reserved *.test host: nothing may leave this machine, and the guard must refuse
// (or answer) all of it. The secret-looking query strings, headers and bodies must never reach the trace.
const pyScript = `
import urllib.request as u
for url in ["https://payments.provider.test/v1/charges?card=4242-py", "http://mail.provider.test/send?to=py"]:
    try:
        u.urlopen(u.Request(url, data=b"py-body-secret", headers={"Authorization": "Bearer py-header-secret"}))
    except Exception as e:
        print("py", getattr(e, "code", e))
print(u.urlopen("https://api.stub.test/v1/refunds?id=py").read().decode())
`;
const nodeScript = `
const opts = { method: 'POST', body: 'node-body-secret', headers: { authorization: 'Bearer node-header-secret' } };
for (const url of ['https://payments.provider.test/v1/charges?card=4242-node', 'http://mail.provider.test/send?to=node']) {
  const r = await fetch(url, opts).catch((e) => ({ status: String(e.cause?.code ?? e) }));
  console.log('node', r.status);
}
console.log(await (await fetch('https://api.stub.test/v1/refunds?id=node')).text());
`;

describe('egress guard during run', () => {
  let local: Server;
  let localPort = 0;
  beforeAll(async () => {
    local = createServer((_req, res) => res.end('local ok'));
    await new Promise<void>((resolve) => local.listen(0, '127.0.0.1', resolve));
    localPort = (local.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => local.close(() => resolve())));

  it('denies and records curl, python urllib and Node fetch; stubs answer over HTTPS; loopback passes', async () => {
    const app = await writeApp({ manifest: {} });
    await writeFile(join(app.dir, 'egress.py'), pyScript);
    await writeFile(join(app.dir, 'egress.mjs'), nodeScript);
    const commands = [
      {
        name: 'node-calls',
        run: `node ${join(app.dir, 'egress.mjs')}`,
        // A step's own env cannot route around the guard.
        env: { HTTPS_PROXY: 'http://127.0.0.1:1', NO_PROXY: '*', no_proxy: '*' },
      },
      ...(curl
        ? [
            {
              name: 'curl-calls',
              run:
                "curl -sS -o /dev/null -w '%{http_code}\\n' -H 'Authorization: Bearer curl-header-secret' -d curl-body-secret 'https://payments.provider.test/v1/charges?card=4242-curl'; " +
                "curl -sS -o /dev/null -w '%{http_code}\\n' 'http://mail.provider.test/send?to=curl'; " +
                "curl -sS 'https://api.stub.test/v1/refunds?id=curl'",
            },
          ]
        : []),
      ...(python ? [{ name: 'python-calls', run: `python3 ${join(app.dir, 'egress.py')}` }] : []),
    ];
    const manifest = {
      ...app.manifest,
      commands: commands.map((command) => ({
        ...command,
        background: false,
        allowFailure: false,
        cwd: app.dir,
      })),
      probes: [
        {
          name: 'local',
          kind: 'http' as const,
          url: `http://127.0.0.1:${localPort}/health`,
          allowFailure: false,
          allowConsoleErrors: false,
          ignoreConsole: [],
          screenshot: false,
          viewport: { width: 800, height: 600 },
          expectStatus: 200,
          method: 'GET',
          timeoutSeconds: 10,
        },
        {
          name: 'provider',
          kind: 'http' as const,
          url: 'https://api.stub.test/v1/refunds?id=probe',
          allowFailure: false,
          allowConsoleErrors: false,
          ignoreConsole: [],
          screenshot: false,
          viewport: { width: 800, height: 600 },
          expectStatus: 202,
          expectBodyContains: 'refund-stub',
          method: 'GET',
          timeoutSeconds: 10,
        },
      ],
      raw: {
        ...app.manifest.raw,
        egress: {
          stubs: [{ host: 'api.stub.test', path: '/v1/*', status: 202, body: '{"id":"refund-stub"}' }],
        },
      },
    };
    const result = await runReplay({ manifest, skipMaterialize: true, capsule: app.capsule });
    const steps = stepEvents(result.trace.events);
    for (const step of steps) expect(step, step.name).toMatchObject({ success: true });
    const byName = (name: string): string => {
      const event = steps.find((step) => step.name === name);
      return event && 'stdout' in event ? (event.stdout ?? '') : '';
    };
    expect(byName('node-calls')).toBe('node 403\nnode 403\n{"id":"refund-stub"}\n');
    if (curl) expect(byName('curl-calls')).toBe('403\n403\n{"id":"refund-stub"}');
    if (python) expect(byName('python-calls')).toBe('py 403\npy 403\n{"id":"refund-stub"}\n');

    const egress = egressEvents(result.trace.events);
    const seen = egress.map(
      (event) => `${event.name} ${event.method} ${event.host}:${event.port}${event.path} ${event.verdict}`,
    );
    const expected = (name: string, method: string): string[] => [
      `${name} ${method} payments.provider.test:443/v1/charges denied`,
      `${name} ${method} mail.provider.test:80/send denied`,
      `${name} GET api.stub.test:443/v1/refunds stubbed`,
    ];
    expect(seen).toEqual([
      ...expected('node-calls', 'POST'),
      ...(curl
        ? expected('curl-calls', 'POST').map((line) =>
            line.replace('curl-calls POST mail', 'curl-calls GET mail'),
          )
        : []),
      ...(python ? expected('python-calls', 'POST') : []),
      'provider GET api.stub.test:443/v1/refunds stubbed',
    ]);
    // The command lines and probe URLs hold them (as written in the manifest); the egress records must not.
    const text = JSON.stringify(egress);
    for (const secret of ['secret', '4242', 'to=', 'id=', 'Bearer']) expect(text).not.toContain(secret);
    expect(result.trace.facts).toMatchObject({
      egress_denied: 2 * (1 + (curl ? 1 : 0) + (python ? 1 : 0)),
      egress_stubbed: 2 + (curl ? 1 : 0) + (python ? 1 : 0),
      egress_allowed: 0,
      egress_isolated: true,
    });
    expect(result.gateReasons).toContain(
      `warn: egress_denied > 0 (egress_denied = ${result.trace.facts.egress_denied})`,
    );
    expect(validateAgainstSchema('trace', result.trace)).toEqual([]);
  }, 120_000);
});
