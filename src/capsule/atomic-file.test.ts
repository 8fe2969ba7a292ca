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

  it('abort closes the file once, through its stream, with or without writes in flight', async () => {
    for (const writes of [0, 1, 64]) {
      const file = await createAtomicFile(join(dir, `a${writes}.json`));
      const errors: unknown[] = [];
      file.stream.on('error', (error) => errors.push(error));
      for (let i = 0; i < writes; i++) file.stream.write(Buffer.alloc(64 * 1024, 0x61));
      await file.abort();
      // Closing the fd beside the stream's own close made the latter fail with EBADF (an uncaught
      // 'error' in a run without listener) or close another file given the same number meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(errors).toEqual([]);
      expect(file.stream.closed).toBe(true);
    }
    expect(await readdir(dir)).toEqual([]);
  });

  it('commit closes the file once and leaves only the target', async () => {
    const file = await createAtomicFile(join(dir, 'b.json'));
    const errors: unknown[] = [];
    file.stream.on('error', (error) => errors.push(error));
    file.stream.write('{"ok": true}\n');
    await file.commit();
    await file.abort(); // after a commit: nothing to do
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(errors).toEqual([]);
    expect(await readdir(dir)).toEqual(['b.json']);
  });
});
