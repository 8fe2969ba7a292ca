import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { egressEvents, stepEvents } from '../../../src/egress/event.js';
import { runReplay } from '../../../src/services/run.js';
import { validateAgainstSchema } from '../../../src/validation.js';
import {
  type FakeInternet,
  nonLoopbackAddress,
  startDirectServer,
  startFakeInternet,
} from '../../setup/egress-upstream.js';
import { writeApp } from './helpers.js';

// What the guard lets out goes to a real server on this machine: the fake internet (a proxy bound on a
// non-loopback address, passed through the tests-only `egressUpstream`), or a server bound on that address
// alone. Every name is reserved (*.test); no packet leaves the machine.
const address = nonLoopbackAddress();
if (!address)
  console.warn('⏭  skipping egress upstream tests: this machine has no non-loopback IPv4 address');
const curl = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v curl']);
    return true;
  } catch {
    return false;
  }
})();

// Prints "status body" per request; the query strings carry a secret that must not reach the trace.
const fetchScript = `
for (const spec of process.argv.slice(2)) {
  const [method, url] = spec.split(' ');
  const r = await fetch(url, { method, ...(method === 'POST' ? { body: 'post-body-secret' } : {}) });
  console.log(r.status, (await r.text()).replace(/\\n$/, ''));
}
`;

const scriptDir = mkdtempSync(join(tmpdir(), 'replay-env-egress-fetch-'));
writeFileSync(join(scriptDir, 'fetch.mjs'), fetchScript);

/** An app whose command fetches `requests` ("METHOD URL") with Node's fetch, and runs `curl` if present. */
async function appWith(egress: Record<string, unknown>, requests: string[], extra: { curl?: string } = {}) {
  const quoted = requests.map((spec) => `'${spec}'`).join(' ');
  const commands = [
    { name: 'node-calls', run: `node ${join(scriptDir, 'fetch.mjs')} ${quoted}` },
    ...(extra.curl && curl ? [{ name: 'curl-calls', run: extra.curl }] : []),
  ];
  return writeApp({ manifest: { commands, egress } });
}

function stdoutOf(result: Awaited<ReturnType<typeof runReplay>>, name: string): string {
  const event = stepEvents(result.trace.events).find((step) => step.name === name);
  return event && 'stdout' in event ? (event.stdout ?? '') : '';
}

function verdicts(result: Awaited<ReturnType<typeof runReplay>>): string[] {
  return egressEvents(result.trace.events).map(
    (event) => `${event.name} ${event.method} ${event.host}${event.path} ${event.verdict}`,
  );
}

describe.skipIf(!address)('egress guard with an upstream on this machine', () => {
  let internet: FakeInternet;
  beforeAll(async () => {
    internet = await startFakeInternet(address!);
  });
  afterAll(() => internet.stop());
  const upstream = () => ({ proxyUrl: internet.proxyUrl, trustedCAs: [internet.ca] });

  it('allow lets matching hosts through (HTTP and HTTPS) and denies the others; bodyFile stubs answer', async () => {
    internet.seen.length = 0;
    const app = await appWith(
      {
        allow: ['*.sandbox.test'],
        stubs: [{ host: 'api.stub.test', path: '/v1/refunds', bodyFile: 'bodies/refund.json', status: 201 }],
      },
      [
        'GET https://api.sandbox.test/v1/ping?token=query-secret',
        'POST http://cdn.sandbox.test/assets',
        'GET https://sandbox.test/bare',
        'GET https://payments.provider.test/v1/charges',
        'GET https://api.stub.test/v1/refunds?id=1',
      ],
      { curl: "curl -sS 'https://api.sandbox.test/v1/curl?token=query-secret'" },
    );
    await mkdir(join(app.dir, 'bodies'));
    await writeFile(join(app.dir, 'bodies', 'refund.json'), '{"refund":"from-file"}');
    const result = await runReplay({
      manifest: app.manifest,
      skipMaterialize: true,
      egressUpstream: upstream(),
    });
    expect(stdoutOf(result, 'node-calls').split('\n')).toEqual([
      '200 upstream GET api.sandbox.test/v1/ping',
      '200 upstream POST cdn.sandbox.test/assets',
      // *.sandbox.test covers subdomains only, not sandbox.test itself.
      expect.stringMatching(/^403 replay-env egress guard: sandbox.test is not allowed/),
      expect.stringMatching(/^403 replay-env egress guard: payments.provider.test is not allowed/),
      '201 {"refund":"from-file"}',
      '',
    ]);
    if (curl) expect(stdoutOf(result, 'curl-calls')).toBe('upstream GET api.sandbox.test/v1/curl');
    expect(internet.seen.sort()).toEqual(
      [
        'GET api.sandbox.test/v1/ping',
        'POST cdn.sandbox.test/assets',
        ...(curl ? ['GET api.sandbox.test/v1/curl'] : []),
      ].sort(),
    );
    expect(verdicts(result)).toEqual([
      'node-calls GET api.sandbox.test/v1/ping allowed',
      'node-calls POST cdn.sandbox.test/assets allowed',
      'node-calls GET sandbox.test/bare denied',
      'node-calls GET payments.provider.test/v1/charges denied',
      'node-calls GET api.stub.test/v1/refunds stubbed',
      ...(curl ? ['curl-calls GET api.sandbox.test/v1/curl allowed'] : []),
    ]);
    expect(JSON.stringify(egressEvents(result.trace.events))).not.toMatch(/secret|token=|cookie/);
    expect(result.trace.facts).toMatchObject({
      egress_allowed: curl ? 3 : 2,
      egress_denied: 2,
      egress_stubbed: 1,
      egress_isolated: false,
    });
    expect(result.gate).toBe('human_review');
    expect(validateAgainstSchema('trace', result.trace)).toEqual([]);
  }, 120_000);

  it('passthrough lets every host through and still records each request', async () => {
    internet.seen.length = 0;
    const app = await appWith({ mode: 'passthrough' }, [
      'GET https://any.provider.test/a?card=4242',
      'DELETE http://other.provider.test/b',
    ]);
    const result = await runReplay({
      manifest: app.manifest,
      skipMaterialize: true,
      egressUpstream: upstream(),
    });
    expect(stdoutOf(result, 'node-calls')).toBe(
      '200 upstream GET any.provider.test/a\n200 upstream DELETE other.provider.test/b\n',
    );
    expect(verdicts(result)).toEqual([
      'node-calls GET any.provider.test/a allowed',
      'node-calls DELETE other.provider.test/b allowed',
    ]);
    expect(result.trace.facts).toMatchObject({ egress_allowed: 2, egress_denied: 0, egress_isolated: false });
  }, 120_000);

  it('checks the upstream certificate: an upstream the guard does not trust gets no request', async () => {
    internet.seen.length = 0;
    const app = await appWith({ mode: 'passthrough' }, ['GET https://untrusted.provider.test/x']);
    const result = await runReplay({
      manifest: app.manifest,
      skipMaterialize: true,
      egressUpstream: { proxyUrl: internet.proxyUrl },
    });
    expect(stdoutOf(result, 'node-calls')).toMatch(/^502 /);
    expect(internet.seen).toEqual([]);
  }, 120_000);

  it('record saves real answers as stubs that a later deny run serves', async () => {
    internet.seen.length = 0;
    const requests = [
      'GET https://api.sandbox.test/v1/a?x=1',
      'POST http://api.sandbox.test/v1/b',
      'GET https://api.sandbox.test/v1/a?x=2',
      'GET https://api.sandbox.test/binary',
    ];
    const app = await appWith({ mode: 'record', recordTo: 'recorded/stubs.yaml' }, requests);
    await mkdir(join(app.dir, 'recorded'));
    const recorded = await runReplay({
      manifest: app.manifest,
      skipMaterialize: true,
      egressUpstream: upstream(),
    });
    const output = stdoutOf(recorded, 'node-calls');
    expect(output.split('\n').slice(0, 3)).toEqual([
      '200 upstream GET api.sandbox.test/v1/a',
      '200 upstream POST api.sandbox.test/v1/b',
      '200 upstream GET api.sandbox.test/v1/a',
    ]);
    expect(verdicts(recorded).every((line) => line.endsWith(' allowed'))).toBe(true);
    const file = join(app.dir, 'recorded', 'stubs.yaml');
    expect(recorded.egressRecording).toEqual({
      path: file,
      stubs: 2,
      skipped: ['GET api.sandbox.test/binary: the body is not UTF-8 text'],
    });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const text = await readFile(file, 'utf8');
    expect(text).not.toMatch(/cookie|secret|x=1/);
    const { stubs } = parse(text) as { stubs: unknown[] };
    expect(stubs).toEqual([
      {
        host: 'api.sandbox.test',
        method: 'GET',
        path: '/v1/a',
        status: 200,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: 'upstream GET api.sandbox.test/v1/a',
      },
      expect.objectContaining({ method: 'POST', path: '/v1/b', body: 'upstream POST api.sandbox.test/v1/b' }),
    ]);

    // Replayed in mode deny with the recorded stubs (validated by the manifest loader): same answers, no
    // request leaves, and the binary answer that could not be recorded is denied.
    internet.seen.length = 0;
    const replay = await appWith({ stubs }, requests);
    const result = await runReplay({
      manifest: replay.manifest,
      skipMaterialize: true,
      egressUpstream: upstream(),
    });
    expect(stdoutOf(result, 'node-calls').split('\n').slice(0, 3)).toEqual(output.split('\n').slice(0, 3));
    expect(internet.seen).toEqual([]);
    expect(verdicts(result).map((line) => line.split(' ').pop())).toEqual([
      'stubbed',
      'stubbed',
      'stubbed',
      'denied',
    ]);
    expect(result.trace.facts).toMatchObject({ egress_stubbed: 3, egress_allowed: 0 });
  }, 120_000);

  it('allows a direct connection to an address that is not loopback (no stand-in upstream)', async () => {
    const direct = await startDirectServer(address!);
    try {
      const app = await appWith({ allow: [address!] }, [
        `GET ${direct.url}/health?k=v`,
        'GET http://mail.provider.test/x',
      ]);
      const result = await runReplay({ manifest: app.manifest, skipMaterialize: true });
      expect(stdoutOf(result, 'node-calls')).toMatch(/^200 direct \/health\n403 /);
      expect(verdicts(result)).toEqual([
        `node-calls GET ${address}/health allowed`,
        'node-calls GET mail.provider.test/x denied',
      ]);
    } finally {
      direct.server.close();
    }
  }, 120_000);
});
