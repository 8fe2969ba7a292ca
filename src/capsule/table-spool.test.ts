import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { useTempDir } from '../../test/setup/temp-dir.js';
import { createTableSpool } from './table-spool.js';

let dir: string;
useTempDir('table-spool-', (path) => (dir = path));

describe('table spool', () => {
  it('a write that fails with nobody listening any more neither crashes the process nor hangs finished()', async () => {
    // The spool file cannot be created (its directory is a file): the first spooled write fails, as a
    // full disk's would, after the pipeline that wrote into the spool has gone (nothing listens to it).
    await writeFile(join(dir, 'blocker'), '');
    const spool = createTableSpool(join(dir, 'blocker', 'c.json'), 'c');
    spool.stream.write(Buffer.from('{"id": 1}\n{"id": 2}\n'));
    spool.stream.end();
    await new Promise((resolve) => setTimeout(resolve, 50)); // an unhandled 'error' would have been thrown by now
    expect(spool.stream.errored?.message).toMatch(/^cannot write .*c\.json\S*: E[A-Z]+/);
    await expect(spool.finished()).rejects.toThrow(/^cannot write .*c\.json\S*: E[A-Z]+/);
    await spool.discard();
    expect(await readdir(dir)).toEqual(['blocker']);
  });
});
