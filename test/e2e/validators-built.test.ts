import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { describe, expect, it } from 'vitest';

import { repoRoot } from '../setup/cli.js';

// The build's validators (scripts/compile-validators.js) pass their own seal and schema digest, so the
// commands use them (a seal the loader rejected would silently cost every command's start-up).
describe('dist/validators', () => {
  it('every built validator is used', async () => {
    const built = (await import(pathToFileURL(join(repoRoot, 'dist/validation.js')).href)) as {
      precompiledValidator(name: string): unknown;
    };
    for (const name of ['manifest', 'capsule', 'trace', 'session', 'gate-policy', 'golden', 'scenarios'])
      expect(typeof built.precompiledValidator(name), name).toBe('function');
  });
});
