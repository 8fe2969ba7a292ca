import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { repoRoot } from '../setup/cli.js';

// The package's public surface as a user's project sees it: `import … from 'replay-env'` resolved by Node
// through package.json `main` in the build, from a folder where replay-env is an installed dependency.
let project: string;
beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), 'replay-env-api-'));
  await mkdir(join(project, 'node_modules'));
  await symlink(repoRoot, join(project, 'node_modules', 'replay-env'), 'dir');
});
afterAll(async () => {
  await rm(project, { recursive: true, force: true });
});

async function runScript(source: string): Promise<unknown> {
  const file = join(project, `script-${Math.random().toString(36).slice(2)}.mjs`);
  await writeFile(file, source);
  const { stdout } = await execa('node', [file], { cwd: project });
  return JSON.parse(stdout);
}

describe("the programmatic API (import from 'replay-env')", () => {
  it('exports the services, the manifest/capsule helpers and the error classes', async () => {
    const names = (await runScript(
      `import * as api from 'replay-env';\nconsole.log(JSON.stringify(Object.keys(api).sort()));`,
    )) as string[];
    for (const name of [
      'DatabaseUrl',
      'ExitCode',
      'ManifestError',
      'ReplayEnvError',
      'exportCapsule',
      'explainExport',
      'explainMaterialize',
      'inspectCapsule',
      'loadManifest',
      'materialize',
      'openCapsule',
      'parseManifest',
      'parseSubject',
      'planExport',
      'planMaterialize',
      'replaySession',
      'runDoctor',
      'runReplay',
      'startEmbeddedPostgres',
      'startRecordingProxy',
      'buildPlaybook',
    ]) {
      expect(names).toContain(name);
    }
  });

  it("loads the original tool's manifest and inspects its capsule", async () => {
    const fixture = join(repoRoot, 'test/fixtures/original-tool');
    const result = (await runScript(
      [
        `import { inspectCapsule, loadManifest, ManifestError } from 'replay-env';`,
        `const manifest = await loadManifest(${JSON.stringify(join(fixture, 'manifest.json'))});`,
        `const summary = await inspectCapsule(${JSON.stringify(join(fixture, 'capsule.json'))});`,
        `let code;`,
        `try { await loadManifest('no-such-manifest.json'); } catch (error) {`,
        `  code = error instanceof ManifestError ? error.exitCode : 'not a ManifestError'; }`,
        `console.log(JSON.stringify({ appId: manifest.appId, order: manifest.postgres.tableOrder,`,
        `  app: summary.app, code }));`,
      ].join('\n'),
    )) as Record<string, unknown>;
    expect(result).toEqual({
      appId: 'shop',
      order: ['customers', 'orders', 'order_notes'],
      app: 'shop',
      code: 2,
    });
  });
});
