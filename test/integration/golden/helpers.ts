import { cp, mkdtemp, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { sampleApp } from '../../../src/demo/sample-app.js';
import { loadManifest, type ParsedManifest } from '../../../src/manifest/index.js';
import { repoRoot } from '../../setup/cli.js';
import type { TestDatabase } from '../../setup/database.js';
import { teamdeskManifestFile } from '../../setup/teamdesk-app.js';

/** A copy of the shipped loop (check writes loop-state.yaml; the repository's copy must not change). */
export async function copyShippedLoop(): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'replay-env-loop-')), 'loop');
  await cp(join(repoRoot, 'loops/user-history-replay'), dir, { recursive: true });
  return dir;
}

/** A replay database with the teamdesk schema (empty), as CI would create it. */
export async function teamdeskReplayDb(db: TestDatabase): Promise<ParsedManifest> {
  await db.query(await readFile(sampleApp.schema, 'utf8'));
  return loadManifest(await teamdeskManifestFile());
}

/** The teamdesk replay database in `db` and a fresh copy of the shipped loop: where a check test starts. */
export async function shippedLoopOn(db: TestDatabase): Promise<{ manifest: ParsedManifest; loop: string }> {
  const manifest = await teamdeskReplayDb(db);
  return { manifest, loop: await copyShippedLoop() };
}

/** A tiny "API" whose answer the test changes between runs. */
export async function startApi(answer: () => unknown): Promise<{ url: string; server: Server }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json', 'x-request-id': String(Math.random()) });
    response.end(JSON.stringify(answer()));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return { url: `http://127.0.0.1:${address.port}`, server };
}
