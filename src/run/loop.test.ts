import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { resolveLoopDir } from './loop.js';

// docs/run.md "Gate policy": the loop is --loop, else the manifest's `loop`, else
// ./loops/user-history-replay, else the one shipped with replay-env (docs/app-manifest.md: `loop`).
describe('resolveLoopDir', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'loop-default-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('without a local loop folder: the one shipped with replay-env', () => {
    expect(resolveLoopDir({ cwd: dir })).toBe(
      resolve(import.meta.dirname, '../../loops/user-history-replay'),
    );
  });

  it('./loops/user-history-replay when it has a gate.yaml; the manifest, then --loop, win over it', async () => {
    const local = join(dir, 'loops', 'user-history-replay');
    await mkdir(local, { recursive: true });
    await writeFile(join(local, 'gate.yaml'), 'block_if: []\n');
    expect(resolveLoopDir({ cwd: dir })).toBe(local);
    expect(resolveLoopDir({ cwd: dir, manifestLoop: 'mine' })).toBe(join(dir, 'mine'));
    expect(resolveLoopDir({ cwd: dir, manifestLoop: 'mine', flag: 'flagged' })).toBe(join(dir, 'flagged'));
  });
});
