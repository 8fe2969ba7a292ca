import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach } from 'vitest';

/**
 * A fresh directory under the OS temp dir for each test of the file, removed after it; `use` receives its
 * path before each test: `let dir: string; useTempDir('doctor-reload-', (path) => (dir = path));`.
 */
export function useTempDir(prefix: string, use: (path: string) => void): void {
  let path: string | undefined;
  beforeEach(async () => {
    path = await mkdtemp(join(tmpdir(), prefix));
    use(path);
  });
  afterEach(async () => {
    if (path) await rm(path, { recursive: true, force: true });
  });
}
