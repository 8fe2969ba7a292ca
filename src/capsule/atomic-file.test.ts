import { spawnSync } from 'node:child_process';
import { fdatasync } from 'node:fs';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
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

describe('createAtomicFile with writebackBytes', () => {
  const megabyte = Buffer.alloc(1 << 20, 0x61);
  const write = async (file: Awaited<ReturnType<typeof createAtomicFile>>, chunks: number) => {
    for (let i = 0; i < chunks; i++)
      if (!file.stream.write(megabyte)) await new Promise((resolve) => file.stream.once('drain', resolve));
  };

  it('syncs in the background while the file grows, one at a time, and commits the same bytes', async () => {
    let syncs = 0;
    let inFlight = 0;
    let most = 0;
    const file = await createAtomicFile(join(dir, 'c.json'), {
      writebackBytes: 2 << 20,
      fdatasync: (fd, callback) => {
        syncs += 1;
        most = Math.max(most, ++inFlight);
        fdatasync(fd, (error) => {
          inFlight -= 1;
          callback(error);
        });
      },
    });
    await write(file, 16);
    await file.commit();
    // One real fdatasync can outlast all 16 MiB of writes on a busy disk (then it is the only one: 4 of 6
    // runs on a loaded machine); the step itself is counted with instant syncs in the next test.
    expect(syncs).toBeGreaterThanOrEqual(1);
    expect(most).toBe(1);
    expect((await stat(join(dir, 'c.json'))).size).toBe(16 << 20);
    expect(await readdir(dir)).toEqual(['c.json']);
  });

  it('starts a sync after every writebackBytes once the one before has finished', async () => {
    let syncs = 0;
    const file = await createAtomicFile(join(dir, 'c.json'), {
      writebackBytes: 2 << 20,
      fdatasync: (_fd, callback) => {
        syncs += 1;
        setImmediate(() => callback(null));
      },
    });
    // Each chunk waits for its write and then for the sync it started (queued before this setImmediate).
    for (let i = 0; i < 16; i++) {
      await new Promise<void>((resolve, reject) =>
        file.stream.write(megabyte, (error) => (error ? reject(error) : resolve())),
      );
      await new Promise((resolve) => setImmediate(resolve));
    }
    await file.commit();
    expect(syncs).toBe(8);
    expect((await stat(join(dir, 'c.json'))).size).toBe(16 << 20);
  });

  it("a failed background sync fails the commit (its error is not reported again to commit's fsync)", async () => {
    const file = await createAtomicFile(join(dir, 'c.json'), {
      writebackBytes: 1 << 20,
      fdatasync: (_fd, callback) =>
        setImmediate(() => callback(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }))),
    });
    await write(file, 4);
    await expect(file.commit()).rejects.toThrow(/cannot write .*c\.json: EIO/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('abort waits for the sync in flight before closing the file', async () => {
    let release: (() => void) | undefined;
    let closedDuringSync = false;
    const file = await createAtomicFile(join(dir, 'c.json'), {
      writebackBytes: 1 << 20,
      fdatasync: (_fd, callback) => {
        release = () => {
          closedDuringSync = file.stream.closed;
          callback(null);
        };
      },
    });
    await write(file, 2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(release).toBeDefined();
    const aborted = file.abort();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(file.stream.closed).toBe(false);
    release!();
    await aborted;
    expect(closedDuringSync).toBe(false);
    expect(file.stream.closed).toBe(true);
    expect(await readdir(dir)).toEqual([]);
  });
});
