import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { egressEvents, stepEvents } from '../../../src/egress/event.js';
import { runReplay } from '../../../src/services/run.js';
import { writeApp } from './helpers.js';

// Runtimes that ignore the proxy variables, routed by what run adds: Node's http/https modules (the
// preload's global agents) and Java (JAVA_TOOL_OPTIONS with proxy properties and a trust store).
const java = ['/usr/bin/java', '/usr/lib/jvm/java-17-openjdk-amd64/bin/java'].find((path) =>
  existsSync(path),
);
if (!java) console.warn('⏭  skipping the Java egress test: java is not installed');
const javaProgram = fileURLToPath(new URL('java/EgressCalls.java', import.meta.url));
const nodeProgram = `
import http from 'node:http';
import https from 'node:https';
const get = (mod, url) => new Promise((resolve) => {
  mod.get(url, (res) => {
    let body = '';
    res.on('data', (chunk) => (body += chunk));
    res.on('end', () => resolve(res.statusCode + ' ' + body.split('\\n')[0].slice(0, 40)));
  }).on('error', (error) => resolve('error ' + (error.code ?? error.message)));
});
for (const url of process.argv.slice(2)) console.log(await get(url.startsWith('https:') ? https : http, url));
`;
const stubs = [{ host: 'api.stub.test', path: '/v1/*', status: 202, body: 'refund-stub' }];

function outputOf(result: Awaited<ReturnType<typeof runReplay>>, name: string): string {
  const event = stepEvents(result.trace.events).find((step) => step.name === name);
  return event && 'stdout' in event ? (event.stdout ?? '') : '';
}

describe('egress guard for runtimes that ignore the proxy variables', () => {
  let local: Server;
  let localUrl = '';
  beforeAll(async () => {
    local = createServer((_request, response) => response.end('local ok'));
    await new Promise<void>((resolve) => local.listen(0, '127.0.0.1', resolve));
    localUrl = `http://127.0.0.1:${(local.address() as { port: number }).port}/health`;
  });
  afterAll(() => new Promise<void>((resolve) => local.close(() => resolve())));

  it("Node's http and https modules go through the guard; loopback goes direct", async () => {
    const urls = [
      'https://api.stub.test/v1/refunds?id=1',
      'http://mail.provider.test/send?to=x',
      'https://payments.provider.test/v1/charges',
      localUrl,
    ];
    const script = join(await mkdtemp(join(tmpdir(), 'replay-env-node-http-')), 'calls.mjs');
    await writeFile(script, nodeProgram);
    const command = `node ${script} ${urls.join(' ')}`;
    const app = await writeApp({
      manifest: { commands: [{ name: 'node-http', run: command }], egress: { stubs } },
    });
    const result = await runReplay({ manifest: app.manifest, skipMaterialize: true });
    const event = stepEvents(result.trace.events)[0];
    expect(event && 'stderr' in event ? event.stderr : '').toBe('');
    expect(outputOf(result, 'node-http').split('\n')).toEqual([
      '202 refund-stub',
      expect.stringMatching(/^403 replay-env egress guard: mail/),
      expect.stringMatching(/^403 replay-env egress guard: payments/),
      '200 local ok',
      '',
    ]);
    expect(
      egressEvents(result.trace.events).map((e) => `${e.method} ${e.host}:${e.port}${e.path} ${e.verdict}`),
    ).toEqual([
      'GET api.stub.test:443/v1/refunds stubbed',
      'GET mail.provider.test:80/send denied',
      'GET payments.provider.test:443/v1/charges denied',
    ]);
  }, 120_000);

  it.skipIf(!java)(
    'Java HttpURLConnection and HttpClient go through the guard, HTTPS included',
    async () => {
      const urls = ['https://api.stub.test/v1/refunds?id=1', 'http://mail.provider.test/send', localUrl];
      const app = await writeApp({
        manifest: {
          commands: [
            { name: 'java-calls', run: `${java} ${javaProgram} ${urls.join(' ')}`, timeoutSeconds: 120 },
          ],
          egress: { stubs },
        },
      });
      const result = await runReplay({ manifest: app.manifest, skipMaterialize: true });
      expect(outputOf(result, 'java-calls').split('\n')).toEqual([
        'urlconnection 202 refund-stub',
        'httpclient 202 refund-stub',
        expect.stringMatching(/^urlconnection 403 replay-env egress guard: mail/),
        expect.stringMatching(/^httpclient 403 replay-env egress guard: mail/),
        'urlconnection 200 local ok',
        'httpclient 200 local ok',
        '',
      ]);
      expect(
        egressEvents(result.trace.events).map((e) => `${e.method} ${e.host}${e.path} ${e.verdict}`),
      ).toEqual([
        'GET api.stub.test/v1/refunds stubbed',
        'GET api.stub.test/v1/refunds stubbed',
        'GET mail.provider.test/send denied',
        'GET mail.provider.test/send denied',
      ]);
    },
    180_000,
  );
});
