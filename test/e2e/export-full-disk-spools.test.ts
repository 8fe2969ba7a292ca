import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { execa } from 'execa';
import { expect } from 'vitest';

import { filesBesidesAudit } from '../setup/capsule-folder.js';
import { repoRoot, runJs } from '../setup/cli.js';
import { dbTest } from '../setup/database.js';

// A full disk (EFBIG under ulimit -f) while closure's held tables are written to spool files beside the
// capsule, each ~4 MB (more than the 1 MiB a file stream buffers before its writer waits), past the
// limit at 2 MiB and at 6 MiB (the spools fit, the capsule does not): one line, no file left.
dbTest.for([2048, 6144])(
  'EFBIG at %i KiB with held tables in spools: one line, nothing left',
  async (kib, { db }) => {
    await db.query(`
    create table parents (id int primary key, owner text not null);
    create table kids (id int primary key, owner text not null, parent_id int references parents, pad text);
    create table toys (id int primary key, owner text not null, parent_id int references parents, pad text);
    insert into parents select i, 'x' from generate_series(1, 10) i;
    insert into kids select i, 'me', 1 + i % 10, repeat('k', 2000) from generate_series(1, 2000) i;
    insert into toys select i, 'me', 1 + i % 10, repeat('t', 2000) from generate_series(1, 2000) i;`);
    const dir = await mkdtemp(join(tmpdir(), 'export-full-disk-spools-'));
    const mine = 't.owner = (select owner from params)';
    await writeFile(
      join(dir, 'm.json'),
      JSON.stringify({
        appId: 'full',
        adapter: 'postgres-subject-graph.v1',
        subjectKeys: ['owner'],
        postgres: {
          closure: 'parents',
          tableOrder: ['parents', 'kids', 'toys'],
          tables: [
            { name: 'parents', where: 'false' },
            { name: 'kids', where: mine },
            { name: 'toys', where: mine },
          ],
        },
      }),
    );
    const out = join(dir, 'out', 'c.json');
    const args = ['export-postgres', '--app', join(dir, 'm.json'), '--subject', 'owner=me'];
    const result = await execa(
      'bash',
      [
        '-c',
        `ulimit -f ${kib}; exec node "$@"`,
        'bash',
        runJs,
        ...args,
        '--db-url',
        db.url.connectionString(),
        '--out',
        out,
      ],
      { reject: false, cwd: repoRoot, env: { NO_COLOR: '1' } },
    );
    expect(result.exitCode, result.stderr).toBe(2);
    expect(result.stderr.trim()).toBe(`error: cannot write ${out}: EFBIG: file too large, write`);
    expect(await filesBesidesAudit(join(dir, 'out'))).toEqual([]);
  },
);
