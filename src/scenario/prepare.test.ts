import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { parseManifest } from '../manifest/index.js';
import { prepareScenarioRun } from './prepare.js';

const manifestText = `
appId: scenario-probes
adapter: postgres-subject-graph.v1
subjectKeys: [user_id]
postgres:
  tables:
    - name: users
probes:
  - name: home
    kind: http
    url: http://127.0.0.1:1/
`;

describe('prepareScenarioRun: probes a scenario adds', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

  // The manifest's probes are checked when it loads (check-manifest.ts); a scenario's probes skipped those
  // checks and failed only at run time, or not at all.
  it.each([
    [
      'a browser probe on a file: URL',
      'kind: browser\n        url: file:///etc/passwd',
      /url: a browser probe needs an absolute http\(s\) URL/,
    ],
    [
      'an ignoreConsole that is not a regular expression',
      "kind: browser\n        url: http://127.0.0.1:1/\n        ignoreConsole: ['(']",
      /ignoreConsole\/0: not a regular expression/,
    ],
  ])('refuses %s before anything runs', async (_name, probe, message) => {
    const loop = await mkdtemp(join(tmpdir(), 'replay-env-scenario-probes-'));
    dirs.push(loop);
    await writeFile(
      join(loop, 'scenarios.yaml'),
      `scenarios:\n  - id: page\n    probes:\n      - name: page\n        ${probe}\n`,
    );
    const manifest = parseManifest(manifestText, {
      file: 'app.yaml',
      path: join(loop, 'app.yaml'),
      cwd: loop,
    });
    const run = prepareScenarioRun({ manifest, loopDir: loop, cwd: loop, scenario: 'page' });
    await expect(run).rejects.toMatchObject({ code: 'scenarios_invalid' });
    await expect(run).rejects.toThrow(message);
  });
});
