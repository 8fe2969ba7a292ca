import { readdir, readFile, writeFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { type CapsuleJson, loadTeamdesk } from '../integration/export/helpers.js';
import { filesBesidesAudit } from '../setup/capsule-folder.js';
import { parseJsonOutput, repoRoot, runCli } from '../setup/cli.js';
import { dbTest, testerPassword } from '../setup/database.js';

const app = 'config/apps/teamdesk.yaml';
const subject = ['--subject', 'tenant_id=acme', '--subject', 'user_id=ada'];

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'e2e-export-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * stderr without Node process warnings: a command file of another command that fails to load makes oclif
 * print a multi-line `(node:N) Warning:` block on every run, which says nothing about export-postgres.
 */
function stderrOf(result: { stderr: string }): string {
  return result.stderr.replace(
    /^\(node:\d+\) Warning:[\s\S]*?\(Use `node --trace-warnings[^\n]*(\n|$)/gm,
    '',
  );
}

function expectNoPassword(...texts: string[]): void {
  for (const text of texts) expect(text).not.toContain(testerPassword());
}

describe('export-postgres', () => {
  dbTest('--json exports via the manifest env var and prints one JSON document', async ({ db }) => {
    await loadTeamdesk(db);
    const out = join(dir, 'capsules', 'ada.json');
    const result = await runCli(
      ['export-postgres', '--app', app, ...subject, '--out', out, '--json', '--profile'],
      {
        env: { TEAMDESK_PROD_DATABASE_URL: db.url.connectionString() },
      },
    );
    expect(stderrOf(result)).toBe('');
    expect(result.exitCode, stderrOf(result)).toBe(0);
    const json = parseJsonOutput<CapsuleJson>(result.stdout);
    expect(json).toMatchObject({
      capsule: out,
      app: 'teamdesk',
      subject: { tenant_id: 'acme', user_id: 'ada' },
      redaction: 'safe',
      sinceDays: 180,
      graph: { size: 5 },
      rowCounts: { tenants: 1, users: 5, tickets: 3, comments: 4, reactions: 3 },
    });
    expect(Object.keys(json.phases)).toEqual([
      'connect',
      'snapshot',
      'graph',
      'pieces',
      'table:tenants',
      'table:users',
      'table:tickets',
      'table:comments',
      'table:reactions',
      'table:audit_events',
      'commit',
      'finish',
    ]);
    const capsule = await readFile(out, 'utf8');
    expect(JSON.parse(capsule).source).toMatchObject({ databaseUrlEnv: 'TEAMDESK_PROD_DATABASE_URL' });
    expect(json.bytes).toBe(Buffer.byteLength(capsule));
    expectNoPassword(result.stdout, result.stderr, capsule);
  });

  dbTest('prints a readable summary with --db-url, and phase timings with --profile', async ({ db }) => {
    await loadTeamdesk(db);
    const out = join(dir, 'ada.json.gz');
    const result = await runCli([
      'export-postgres',
      '--app',
      app,
      ...subject,
      '--db-url',
      db.url.connectionString(),
      '--out',
      out,
      '--redaction',
      'raw',
      '--since-days',
      '3650',
      '--profile',
    ]);
    expect(result.exitCode, stderrOf(result)).toBe(0);
    expect(result.stdout).toContain(`capsule: ${out}`);
    expect(result.stdout).toContain('graph: 5 subject(s) (subject 1, ');
    expect(result.stdout).toContain('  audit_events: 3');
    expect(stderrOf(result)).toMatch(/^profile \(ms\):\n {2}connect: \d+/);
    expectNoPassword(result.stdout, result.stderr);
  });

  dbTest(
    '--log-level info logs each phase as a JSON line on stderr, without the password',
    async ({ db }) => {
      await loadTeamdesk(db);
      const out = join(dir, 'logged.json');
      const result = await runCli(
        ['export-postgres', '--app', app, ...subject, '--out', out, '--json', '--log-level', 'info'],
        { env: { TEAMDESK_PROD_DATABASE_URL: db.url.connectionString() } },
      );
      expect(result.exitCode, stderrOf(result)).toBe(0);
      const lines = stderrOf(result)
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as { msg: string; phase?: string; table?: string; rows?: number });
      const phases = lines.filter((line) => line.phase !== undefined).map((line) => line.phase);
      expect(phases).toEqual(expect.arrayContaining(['connect', 'snapshot', 'graph', 'commit', 'finish']));
      expect(lines.find((line) => line.table === 'users')).toMatchObject({ rows: 5 });
      expect(lines.some((line) => line.msg === 'connected')).toBe(true);
      expectNoPassword(result.stdout, result.stderr);
    },
  );

  it('--dry-run-sql prints the SQL with subject values as parameters, with no database URL at all', async () => {
    const result = await runCli(['export-postgres', '--app', app, ...subject, '--dry-run-sql'], {
      env: { TEAMDESK_PROD_DATABASE_URL: '' },
    });
    expect(result.exitCode, stderrOf(result)).toBe(0);
    expect(result.stdout).toContain('begin isolation level repeatable read, read only;');
    expect(result.stdout).toContain('--   $1 = "acme"\n--   $2 = "ada"\n--   $3 = 180');
    expect(result.stdout).toContain('/* graphEdges[3] */');
    expect(result.stdout).toContain('/* tables[audit_events].where */');
    expect(result.stdout).toMatch(/on both connections:\nset local max_parallel_workers_per_gather = 0;\n/);
    expect(result.stdout.match(/^copy \($/gm)).toHaveLength(6);
    expect(result.stdout).not.toMatch(/'acme'|'ada'/);
    const json = await runCli(['export-postgres', '--app', app, ...subject, '--dry-run-sql', '--json']);
    const plan = parseJsonOutput<{
      graph: { values: unknown[] };
      twoConnections: string[];
      tables: Array<{ name: string }>;
    }>(json.stdout);
    expect(plan.graph.values).toEqual(['acme', 'ada', 180]);
    expect(plan.twoConnections).toEqual(['set local max_parallel_workers_per_gather = 0']);
    expect(plan.tables.map((table) => table.name)).toEqual([
      'tenants',
      'users',
      'tickets',
      'comments',
      'reactions',
      'audit_events',
    ]);
  });

  dbTest('--explain prints plans for the graph and every table and writes no file', async ({ db }) => {
    await loadTeamdesk(db);
    const out = join(dir, 'never.json');
    const result = await runCli([
      'export-postgres',
      '--app',
      app,
      ...subject,
      '--db-url',
      db.url.connectionString(),
      '--out',
      out,
      '--explain',
    ]);
    expect(result.exitCode, stderrOf(result)).toBe(0);
    expect(result.stdout).toMatch(/^-- graph query \(5 subject\(s\) in the graph\)\n/);
    expect(result.stdout).toContain('-- table audit_events\n');
    expect(result.stdout).toContain('Function Scan on g');
    expect(await filesBesidesAudit(dir)).toEqual([]);
  });

  describe('failures: one clear line, non-zero exit, no file, no password', () => {
    const failures: Array<[string, string[], number, RegExp]> = [
      [
        'unknown subject key',
        ['--subject', 'tenant_id=acme', '--subject', 'uid=ada'],
        2,
        /^error: --subject key "uid" is not a subject key of this app$/,
      ],
      ['missing subject key', ['--subject', 'tenant_id=acme'], 2, /^error: --subject is missing "user_id"$/],
      [
        'subject not k=v',
        ['--subject', 'acme', '--subject', 'user_id=ada'],
        2,
        /^error: --subject "acme" must be key=value$/,
      ],
      ['negative --since-days', [...subject, '--since-days', '-1'], 2, /^error: .*since-days.*$/],
      [
        '--since-days 0 (no history)',
        [...subject, '--since-days', '0'],
        2,
        /^error: .*since-days.*at least 1.*$|^error: .*since-days.*greater than or equal to 1.*$/,
      ],
      ['non-numeric --since-days', [...subject, '--since-days', 'abc'], 2, /^error: .*since-days.*$/],
      ['bad --redaction', [...subject, '--redaction', 'none'], 2, /^error: .*redaction.*$/],
    ];
    it.each(failures)('%s', async (_name, args, exitCode, line) => {
      const out = join(dir, 'x.json');
      const result = await runCli(['export-postgres', '--app', app, ...args, '--out', out], {
        env: { TEAMDESK_PROD_DATABASE_URL: 'postgres://u:pw-not-used@127.0.0.1:1/x' },
      });
      expect(result.exitCode).toBe(exitCode);
      expect(stderrOf(result).split('\n')[0]).toMatch(line);
      expect(await filesBesidesAudit(dir)).toEqual([]);
    });

    it('no --db-url and no env var', async () => {
      const result = await runCli(
        ['export-postgres', '--app', app, ...subject, '--out', join(dir, 'x.json')],
        {
          env: { TEAMDESK_PROD_DATABASE_URL: '' },
        },
      );
      expect(result.exitCode).toBe(2);
      expect(stderrOf(result)).toBe(
        'error: no export source database URL\nhint: pass --db-url or set TEAMDESK_PROD_DATABASE_URL',
      );
    });

    it('unreachable database', async () => {
      const result = await runCli(
        ['export-postgres', '--app', app, ...subject, '--out', join(dir, 'x.json'), '--json'],
        { env: { TEAMDESK_PROD_DATABASE_URL: 'postgres://u:s3cret-pw@127.0.0.1:1/prod' } },
      );
      expect(result.exitCode).toBe(3);
      const json = parseJsonOutput<{ error: { code: string; message: string } }>(result.stdout);
      expect(json.error).toMatchObject({
        code: 'database_unreachable',
        message:
          'export: cannot connect (127.0.0.1:1/prod): connection refused (is Postgres running and listening there?)',
      });
      expect(result.stdout + result.stderr).not.toContain('s3cret-pw');
      expect(await filesBesidesAudit(dir)).toEqual([]);
    });

    dbTest('a manifest table missing from the database (42P01, with the snippet label)', async ({ db }) => {
      await loadTeamdesk(db);
      const manifest = JSON.parse(await readFile(join(repoRoot, 'config/apps/teamdesk.json'), 'utf8'));
      manifest.postgres.tables.push({ name: 'ghost_table', alias: 'gt' });
      const manifestPath = join(dir, 'teamdesk-ghost.json');
      await writeFile(manifestPath, JSON.stringify(manifest));
      const out = join(dir, 'out', 'x.json');
      const result = await runCli([
        'export-postgres',
        '--app',
        manifestPath,
        ...subject,
        '--db-url',
        db.url.connectionString(),
        '--out',
        out,
      ]);
      expect(result.exitCode).toBe(3);
      const lines = stderrOf(result).trim().split('\n');
      expect(lines[0]).toMatch(
        /^error: export: table ghost_table \(.*\): relation "ghost_table" does not exist near: \[tables\[ghost_table\]\.from\]/,
      );
      expect(lines[1]).toBe('hint: a table in the SQL does not exist in this database');
      expect(await filesBesidesAudit(join(dir, 'out'))).toEqual([]);
      expectNoPassword(result.stdout, result.stderr);
    });
  });

  dbTest('SIGINT mid-export removes the temporary file; nothing exists under the target', async ({ db }) => {
    await db.query(`create table slow (id int primary key, account_id text not null)`);
    await db.query(`insert into slow select i, 'a1' from generate_series(1, 400) i`);
    const manifestPath = join(dir, 'slow.json');
    await writeFile(
      manifestPath,
      JSON.stringify({
        appId: 'slow',
        adapter: 'postgres-subject-graph.v1',
        subjectKeys: ['account_id'],
        postgres: {
          tables: [{ name: 'slow', alias: 's', where: 'pg_sleep(0.05) is not null', orderBy: 's.id' }],
        },
      }),
    );
    const outDir = join(dir, 'out');
    const child = execa(
      'node',
      [
        join(repoRoot, 'bin/run.js'),
        'export-postgres',
        '--app',
        manifestPath,
        '--subject',
        'account_id=a1',
        '--db-url',
        db.url.connectionString(),
        '--out',
        join(outDir, 'slow.json'),
      ],
      { reject: false },
    );
    // Wait until the temporary capsule exists, i.e. the export is streaming.
    for (let i = 0; i < 200; i++) {
      const names = await readdir(outDir).catch(() => [] as string[]);
      if (names.some((name) => name.endsWith('.tmp'))) break;
      await sleep(50);
    }
    expect((await readdir(outDir)).some((name) => name.endsWith('.tmp'))).toBe(true);
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(await filesBesidesAudit(outDir)).toEqual([]);
  });
});
