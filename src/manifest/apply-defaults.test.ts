import { resolve } from 'node:path';

import { describe, expect, it } from 'vitest';

import { parseManifest } from './load-manifest.js';
import { defaultCommandTimeoutSeconds } from './parsed-manifest.js';

// The "default" columns of docs/app-manifest.md, field by field.
describe('manifest defaults as docs/app-manifest.md lists them', () => {
  const manifest = parseManifest(
    JSON.stringify({
      appId: 'a',
      adapter: 'postgres-subject-graph.v1',
      subjectKeys: ['k'],
      postgres: { tables: [{ name: 'items', deletePredicate: 't.k = g.k' }] },
      commands: [{ name: 'test', run: 'true' }],
      probes: [
        { name: 'api', kind: 'http', url: 'http://127.0.0.1:1/' },
        { name: 'page', kind: 'browser', url: 'http://127.0.0.1:1/' },
      ],
      redactionRules: [{ fields: ['email'], action: 'hash' }],
    }),
    { file: 'm.json', path: '/x/m.json', cwd: '/x' },
  );

  it('top level and postgres', () => {
    expect(manifest.repoPath).toBe(resolve('/x'));
    expect(manifest.postgres).toMatchObject({ graphEdges: [], closure: 'none', tableOrder: ['items'] });
    expect(manifest.loop).toBeUndefined();
  });

  it('commands: cwd repoPath, background and allowFailure false, timeout 900 s', () => {
    expect(manifest.commands[0]).toMatchObject({
      cwd: resolve('/x'),
      background: false,
      allowFailure: false,
    });
    expect(manifest.commands[0]!.timeoutSeconds).toBeUndefined();
    expect(defaultCommandTimeoutSeconds).toBe(900);
  });

  it('probes: GET, 200, 30 s, allowFailure false; browser viewport 1280×720, screenshot on', () => {
    expect(manifest.probes[0]).toMatchObject({
      method: 'GET',
      expectStatus: 200,
      timeoutSeconds: 30,
      allowFailure: false,
    });
    expect(manifest.probes[1]).toMatchObject({
      viewport: { width: 1280, height: 720 },
      allowConsoleErrors: false,
      ignoreConsole: [],
      screenshot: true,
    });
  });

  it('redaction rules: prefix replay-, recursive', () => {
    expect(manifest.redactionRules).toEqual([
      { fields: ['email'], action: 'hash', prefix: 'replay-', recursive: true },
    ]);
  });
});
