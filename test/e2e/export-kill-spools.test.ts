import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { execa } from 'execa';
import { expect } from 'vitest';

import { filesBesidesAudit } from '../setup/capsule-folder.js';
import { runJs } from '../setup/cli.js';
import { dbTest } from '../setup/database.js';
import { exportArgs } from '../setup/load-command.js';

// Closure holds every table after the first one it adds to in a spool file beside the capsule until
// closure is complete (src/export/closure.ts). A kill -9 leaves those spools (redacted rows); the next
// export to the same capsule must remove them even when it needs no spool at all (no closure this time).
dbTest(
  'kill -9 while tables wait in spool files: the next export to the same capsule removes every one',
  async ({ db }) => {
    await db.query(`
      create table parents (id int primary key, owner text not null);
      create table kids (id int primary key, owner text not null, parent_id int references parents);
      create table toys (id int primary key, owner text not null, parent_id int references parents);
      insert into parents select i, 'x' from generate_series(1, 10) i;
      insert into kids select i, 'me', 1 + i % 10 from generate_series(1, 400) i;
      insert into toys select i, 'me', 1 + i % 10 from generate_series(1, 400) i;`);
    const dir = await mkdtemp(join(tmpdir(), 'export-kill-spools-'));
    const manifest = async (file: string, closure: boolean) => {
      const path = join(dir, file);
      const slow = 't.owner = (select owner from params) and pg_sleep(0.02) is not null';
      const tables = closure
        ? [
            { name: 'parents', where: 'false' },
            { name: 'kids', where: slow, orderBy: 't.id' },
            { name: 'toys', where: slow, orderBy: 't.id' },
          ]
        : [{ name: 'parents', where: 'true' }];
      const postgres = closure
        ? { closure: 'parents', tableOrder: ['parents', 'kids', 'toys'], tables }
        : { tables };
      await writeFile(
        path,
        JSON.stringify({
          appId: 'spools',
          adapter: 'postgres-subject-graph.v1',
          subjectKeys: ['owner'],
          postgres,
        }),
      );
      return path;
    };
    const outDir = join(dir, 'out');
    const args = (manifestPath: string) => [
      runJs,
      ...exportArgs(manifestPath, { owner: 'me' }, db.url.connectionString(), join(outDir, 'c.json')),
    ];
    const child = execa('node', args(await manifest('closure.json', true)), { reject: false });
    let names: string[] = [];
    for (let i = 0; i < 600 && names.filter((name) => name.includes('.spool-')).length < 2; i++) {
      names = await readdir(outDir).catch(() => []);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill('SIGKILL');
    expect((await child).signal).toBe('SIGKILL');
    const spools = (await readdir(outDir)).filter((name) => name.includes('.spool-'));
    expect(spools.length).toBeGreaterThanOrEqual(2);
    const next = await execa('node', args(await manifest('plain.json', false)), { reject: false });
    expect(next.stderr).toBe('');
    expect(next.exitCode).toBe(0);
    expect(await filesBesidesAudit(outDir)).toEqual(['c.json']);
  },
);
