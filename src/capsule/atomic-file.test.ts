import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { createAtomicFile } from './atomic-file.js';

let dir: string;
beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'atomic-file-'))));
afterEach(() => rm(dir, { recursive: true, force: true }));

/** The pid of a process that has exited (SIGKILL leaves its files behind like this). */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

describe('createAtomicFile', () => {
  it("removes a killed export's temp and spool files of the same capsule, whatever their number", async () => {
    const pid = deadPid();
    const left = [
      `.c.json.${pid}.0123abcd.tmp`,
      `.c.json.spool-1.${pid}.0123abcd.tmp`,
      // A killed run held more tables in spools than the next one needs: nothing else would remove these.
      `.c.json.spool-7.${pid}.89abcdef.tmp`,
    ];
    const kept = [`.c.json.spool-2.${process.pid}.00000000.tmp`, `.other.json.spool-1.${pid}.0123abcd.tmp`];
    for (const name of [...left, ...kept]) await writeFile(join(dir, name), 'redacted rows');
    const file = await createAtomicFile(join(dir, 'c.json'));
    await file.abort();
    expect((await readdir(dir)).sort()).toEqual([...kept].sort());
  });
});
