import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { execa } from 'execa';
import { expect } from 'vitest';

import { filesBesidesAudit } from '../setup/capsule-folder.js';
import { repoRoot, runJs } from '../setup/cli.js';
import { dbTest, type TestDatabase } from '../setup/database.js';
import { ownerManifestText } from '../setup/export-owner.js';
import { exportArgs } from '../setup/load-command.js';
import { useTempDir } from '../setup/temp-dir.js';

let dir: string;
useTempDir('closure-promoted-faults-', (path) => (dir = path));

// parents is first in load order and only closure adds to it (by passed keys): it is promoted into the
// capsule and its ~5 MB of closure rows are written there directly; kids wait in their spool.
async function setup(db: TestDatabase): Promise<{ manifest: string; out: string; args: string[] }> {
  await db.query(`
    create table parents (id int primary key, owner text not null, filler text);
    create table kids (id int primary key, owner text not null, parent_id int references parents);
    insert into parents select i, 'x', repeat(md5(i::text), 32) from generate_series(1, 5000) i;
    insert into kids select i, 'me', i from generate_series(1, 5000) i;`);
  const manifest = join(dir, 'm.json');
  const mine = 't.owner = (select owner from params)';
  await writeFile(
    manifest,
    ownerManifestText('promoted-faults', {
      closure: 'parents',
      tableOrder: ['parents', 'kids'],
      tables: [
        { name: 'kids', where: mine, deletePredicate: 't.owner = g.owner' },
        { name: 'parents', where: 'false', deletePredicate: 't.owner = g.owner' },
      ],
    }),
  );
  const out = join(dir, 'out', 'c.json');
  return {
    manifest,
    out,
    args: [runJs, ...exportArgs(manifest, { owner: 'me' }, db.url.connectionString(), out)],
  };
}

const env = { NO_COLOR: '1', REPLAY_ENV_CLOSURE_DIRECT: '0', REPLAY_ENV_CLOSURE_KEYS_IN_MEMORY: '100' };

dbTest('a full disk while the promoted table is written: one line, no capsule, no spool', async ({ db }) => {
  const { out, args } = await setup(db);
  const result = await execa('bash', ['-c', 'ulimit -f 1024; exec node "$@"', 'bash', ...args], {
    reject: false,
    cwd: repoRoot,
    env,
  });
  expect(result.exitCode, String(result.stderr)).toBe(2);
  expect(String(result.stderr).trim()).toBe(`error: cannot write ${out}: EFBIG: file too large, write`);
  expect(await filesBesidesAudit(join(dir, 'out'))).toEqual([]);
});

for (const signal of ['SIGKILL', 'SIGINT'] as const)
  dbTest(
    `${signal} while the promoted table is written: nothing left once the next export ran`,
    async ({ db }) => {
      const { args } = await setup(db);
      const outDir = join(dir, 'out');
      const child = execa('node', args, { reject: false, cwd: repoRoot, env });
      // Wait until the capsule's temp file holds part of parents' closure rows (past 256 KiB).
      let seen = false;
      for (let i = 0; i < 600 && !seen; i++) {
        for (const name of await readdir(outDir).catch(() => [] as string[]))
          if (/^\.c\.json\.\d+\.[0-9a-f]{8}\.tmp$/.test(name))
            seen ||= (await stat(join(outDir, name)).catch(() => ({ size: 0 }))).size > 256 * 1024;
        if (!seen) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(seen).toBe(true);
      child.kill(signal);
      const killed = await child;
      expect(killed.exitCode === 0).toBe(false);
      if (signal === 'SIGINT') expect(await filesBesidesAudit(outDir)).toEqual([]);
      const next = await execa('node', args, { reject: false, cwd: repoRoot, env });
      expect(next.exitCode, String(next.stderr)).toBe(0);
      expect(await filesBesidesAudit(outDir)).toEqual(['c.json']);
    },
  );
