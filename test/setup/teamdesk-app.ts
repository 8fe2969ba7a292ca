import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { sampleApp } from '../../src/demo/sample-app.js';
import { placeWebPage } from '../../src/demo/web-page.js';

/**
 * A copy of the sample teamdesk manifest whose web page listens on a free port (as the demo's does):
 * test files run in parallel, and the shipped manifest's fixed port would make two runs collide.
 */
export async function teamdeskManifestFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'replay-env-teamdesk-'));
  const path = join(dir, 'teamdesk.yaml');
  await writeFile(path, await placeWebPage(await readFile(sampleApp.manifest, 'utf8')));
  return path;
}
