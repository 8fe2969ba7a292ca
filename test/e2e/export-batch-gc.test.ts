import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

import { repoRoot } from '../setup/cli.js';

// export-postgres turns V8's incremental marking off for its own process (src/cli/batch-gc.ts). A
// script that grows and drops an old generation makes V8 start incremental marking cycles; after the
// built function it starts none (its full collections still run, atomically).
const churn = (call: boolean) => `
  ${call ? `(await import(${JSON.stringify(pathToFileURL(join(repoRoot, 'dist/cli/batch-gc.js')).href)})).preferBatchGarbageCollection();` : ''}
  let keep = [];
  for (let i = 0; i < 800; i++) {
    keep.push(Array.from({ length: 10000 }, (_, k) => ({ k })));
    if (keep.length > 40) keep = keep.slice(20);
  }
`;
const run = async (call: boolean) => {
  const { stdout } = await execa(
    process.execPath,
    ['--trace-incremental-marking', '--trace-gc', '--input-type=module', '-e', churn(call)],
    { timeout: 60_000 },
  );
  return {
    starts: stdout.split('\n').filter((line) => line.includes('[IncrementalMarking] Start (')).length,
    fullCollections: stdout.split('\n').filter((line) => line.includes('Mark-Compact')).length,
  };
};

describe('preferBatchGarbageCollection', () => {
  it('stops V8 starting incremental marking cycles; full collections still happen', async () => {
    const before = await run(false);
    expect(before.starts).toBeGreaterThan(0); // the churn does make V8 start them
    const after = await run(true);
    expect(after.starts).toBe(0);
    expect(after.fullCollections).toBeGreaterThan(0);
  });
});
