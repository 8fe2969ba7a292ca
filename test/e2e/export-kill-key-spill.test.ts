import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { execa } from 'execa';
import { expect } from 'vitest';

import { runJs } from '../setup/cli.js';
import { dbTest } from '../setup/database.js';
import { exportArgs } from '../setup/load-command.js';

// Closure's key sets spill to a directory in the OS temp dir (src/export/target-keys.ts SpillDir): the
// keys are production values (here text keys that could be e-mail addresses). A kill -9 skips the exit
// handler that removes it; the next closure export must remove the dead export's directory, and leave
// a live process's alone.
dbTest(
  "kill -9 while closure keys are spilled: the next export removes the dead export's spill directory",
  async ({ db }) => {
    await db.query(`
      create table parents (id text primary key, owner text not null);
      create table kids (id int primary key, owner text not null, parent_id text references parents,
                         pad text);
      insert into parents select 'someone-' || i || '@example.test', 'x' from generate_series(1, 50) i;
      insert into kids select i, 'me', 'someone-' || (1 + i % 50) || '@example.test', repeat('x', 3000)
        from generate_series(1, 400) i;`);
    // Rows of 3 KB: the server sends them as they come (a few per message), each after a 20 ms sleep.
    const dir = await mkdtemp(join(tmpdir(), 'export-kill-key-spill-'));
    const manifest = join(dir, 'm.json');
    const slow = 't.owner = (select owner from params) and pg_sleep(0.02) is not null';
    await writeFile(
      manifest,
      JSON.stringify({
        appId: 'keyspill',
        adapter: 'postgres-subject-graph.v1',
        subjectKeys: ['owner'],
        postgres: {
          closure: 'parents',
          tableOrder: ['parents', 'kids'],
          tables: [
            { name: 'parents', where: 'false' },
            { name: 'kids', where: slow, orderBy: 't.id' },
          ],
        },
      }),
    );
    const args = [
      runJs,
      ...exportArgs(manifest, { owner: 'me' }, db.url.connectionString(), join(dir, 'c.json')),
    ];
    // One key in memory: the kids' first rows already spill; passed keys (no one-query closure).
    const env = { REPLAY_ENV_CLOSURE_KEYS_IN_MEMORY: '1', REPLAY_ENV_CLOSURE_DIRECT: '0' };
    const child = execa('node', args, { reject: false, env });
    const spillOf = async (pid: number | undefined) =>
      (await readdir(tmpdir())).filter((name) => name.startsWith(`replay-env-closure-${pid}-`));
    let spilled: string[] = [];
    for (let i = 0; i < 600 && spilled.length === 0; i++) {
      spilled = await spillOf(child.pid);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // The directory holds runs of keys before the kill (a run is written at the first spill). Looked at
    // while the export lives: once it is dead, a closure export of a test running alongside may already
    // have removed it (as it should), so it is not listed again.
    expect(spilled).toHaveLength(1);
    const dead = join(tmpdir(), spilled[0]!);
    let runs = 0;
    for (let i = 0; i < 100 && runs === 0; i++) {
      runs = (await readdir(dead)).length;
      if (runs === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(runs).toBeGreaterThan(0);
    child.kill('SIGKILL');
    expect((await child).signal).toBe('SIGKILL');
    // A live process's directory (this one's) is not touched.
    const live = join(tmpdir(), `replay-env-closure-${process.pid}-aB3xYz`);
    await mkdir(live, { recursive: true });
    try {
      const next = await execa('node', args, { reject: false, env });
      expect(next.stderr).toBe('');
      expect(next.exitCode).toBe(0);
      expect(existsSync(dead)).toBe(false);
      expect(existsSync(live)).toBe(true);
    } finally {
      await rm(live, { recursive: true, force: true });
      await rm(dead, { recursive: true, force: true });
      await rm(dir, { recursive: true, force: true });
    }
  },
);
