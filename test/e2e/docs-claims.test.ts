import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';

import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { processAlive } from '../../src/run/process-group.js';
import { loadTeamdesk } from '../integration/export/helpers.js';
import { lineCapsuleText } from '../setup/capsules.js';
import { parseJsonOutput, repoRoot, runCli } from '../setup/cli.js';
import { dbTest } from '../setup/database.js';
import { exportArgs } from '../setup/load-command.js';

// Sentences of README.md and docs/ that no other test showed, each checked against the built CLI.

const app = 'config/apps/teamdesk.yaml';
const sample = {
  app: 'shop',
  subject: { shop_id: 's1', customer_id: 'c1' },
  graph: [{ shop_id: 's1', customer_id: 'c1', reasons: ['subject'] }],
  tables: { customers: [{ a: 1 }, { a: 2 }], orders: [], order_notes: [] },
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'e2e-docs-claims-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('docs/export.md', () => {
  it('--since-days takes 1 … 36500: 36501 is exit 2, 36500 plans', async () => {
    const args = ['export-postgres', '--app', app, '--subject', 'tenant_id=acme', '--subject', 'user_id=ada'];
    const over = await runCli([...args, '--since-days', '36501', '--dry-run-sql']);
    expect(over.exitCode).toBe(2);
    expect(over.stderr.split('\n')[0]).toMatch(/^error: .*since-days.*36500/);
    const max = await runCli([...args, '--since-days', '36500', '--dry-run-sql']);
    expect(max.exitCode, max.stderr).toBe(0);
    expect(max.stdout).toContain('--   $3 = 36500');
  });

  dbTest(
    "SET LOCAL timezone = 'UTC': capsule timestamps do not depend on the server's setting",
    async ({ db }) => {
      await loadTeamdesk(db);
      // New sessions of this database start in UTC+05:45 (a zone no default could be mistaken for).
      await db.query(`alter database ${db.name} set timezone = 'Asia/Kathmandu'`);
      const out = join(dir, 'ada.json');
      const ada = { tenant_id: 'acme', user_id: 'ada' };
      const result = await runCli(exportArgs(app, ada, db.url.connectionString(), out));
      expect(result.exitCode, result.stderr).toBe(0);
      const capsule = JSON.parse(await readFile(out, 'utf8')) as {
        exportedAt: string;
        window: { sinceAt: string };
        tables: { tickets: Array<{ created_at: string }> };
      };
      expect(capsule.exportedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00$/);
      expect(capsule.window.sinceAt).toMatch(/\+00:00$/);
      expect(capsule.tables.tickets.length).toBeGreaterThan(0);
      for (const ticket of capsule.tables.tickets) expect(ticket.created_at).toMatch(/\+00:00$/);
    },
  );
});

describe('docs/materialize.md', () => {
  it('--use-local-subject is not taken together with --rewrite-subject (exit 2, one line)', async () => {
    const capsule = join(dir, 'c.json');
    await writeFile(
      capsule,
      lineCapsuleText({
        app: 'teamdesk',
        subject: { tenant_id: 'acme', user_id: 'ada' },
        graph: [{ tenant_id: 'acme', user_id: 'ada', reasons: ['subject'] }],
        tables: {},
      }),
    );
    const result = await runCli([
      'materialize-postgres',
      '--app',
      app,
      '--capsule',
      capsule,
      '--use-local-subject',
      '--rewrite-subject',
      'user_id=zed',
      '--dry-run-sql',
    ]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim()).toBe(
      'error: pass either --use-local-subject or --rewrite-subject, not both',
    );
  });
});

describe('docs/run.md "Child processes"', () => {
  it('a second Ctrl-C kills everything at once (no wait for a tree that ignores SIGTERM)', async () => {
    const pidFile = join(dir, 'pid');
    const manifest = join(dir, 'app.json');
    await writeFile(
      manifest,
      JSON.stringify({
        appId: 'stubborn',
        adapter: 'postgres-subject-graph.v1',
        subjectKeys: ['k'],
        postgres: { tables: [{ name: 'items', deletePredicate: 't.k = g.k' }] },
        // SIGTERM is ignored by the shell and, inherited, by its sleep: only SIGKILL ends this tree.
        commands: [{ name: 'stubborn', run: `trap '' TERM; sleep 60 & echo $! > ${pidFile}; wait` }],
      }),
    );
    const child = execa(
      'node',
      [join(repoRoot, 'bin/run.js'), 'run', '--app', manifest, '--skip-materialize'],
      {
        cwd: dir,
        reject: false,
        env: { NO_COLOR: '1' },
      },
    );
    // The CLI may take seconds to start on a loaded machine; the pid file is written once the step runs.
    for (let i = 0; i < 600 && !existsSync(pidFile); i++) await sleep(100);
    await sleep(200);
    const sleeper = Number((await readFile(pidFile, 'utf8')).trim());
    child.kill('SIGINT');
    await sleep(500);
    const second = Date.now();
    child.kill('SIGINT');
    const result = await child;
    // The first SIGINT alone would wait the 5 s grace period before SIGKILL.
    expect(Date.now() - second).toBeLessThan(4000);
    expect(result.exitCode).toBe(130);
    expect(processAlive(sleeper)).toBe(false);
  });
});

describe('README: scenario add', () => {
  it('appends a scenario with the capsule sha256 pinned; --json is one document', async () => {
    const capsule = join(dir, 'c.json');
    await writeFile(capsule, await readFile(join(repoRoot, 'test/fixtures/original-tool/capsule.json')));
    const loop = join(dir, 'loop');
    const args = ['scenario', 'add', '--loop', loop, '--capsule', capsule, '--summary', 'a bug', '--json'];
    const first = await runCli([...args, '--id', 'bug-1']);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(parseJsonOutput(first.stdout)).toMatchObject({
      scenario: {
        id: 'bug-1',
        capsule: '../c.json',
        capsule_sha256: 'cce6a1a3de5c039350ad0c92d6a72b40ce10c66f954f8b5799602bd2cc409464',
      },
      golden: null,
    });
    expect((await runCli([...args, '--id', 'bug-2'])).exitCode).toBe(0);
    const yaml = await readFile(join(loop, 'scenarios.yaml'), 'utf8');
    expect(yaml.indexOf('bug-1')).toBeGreaterThan(-1);
    expect(yaml.indexOf('bug-2')).toBeGreaterThan(yaml.indexOf('bug-1'));
  });
});

describe('docs/inspect.md and docs/capsule-format.md', () => {
  it.each([
    [
      'wrong schemaVersion',
      lineCapsuleText(sample).replace('"schemaVersion": 1', '"schemaVersion": 2'),
      /^error: capsule .*\.json is invalid: \/schemaVersion: must be 1$/,
    ],
    [
      'a row after the first that is not one line of JSON',
      lineCapsuleText(sample).replace('{"a":2}', 'garbage'),
      /^error: capsule .*\.json is corrupt at line \d+: /,
    ],
  ])('%s: exit 6, one error line (and at most a hint)', async (name, text, line) => {
    const path = join(dir, `${name.replace(/\W+/g, '-')}.json`);
    await writeFile(path, text);
    const result = await runCli(['inspect', path]);
    expect(result.exitCode).toBe(6);
    const [error, ...rest] = result.stderr.trim().split('\n');
    expect(error).toMatch(line);
    expect(rest.length).toBeLessThanOrEqual(1);
    for (const hint of rest) expect(hint).toMatch(/^hint: /);
  });

  it('a gzip capsule named .json is read (gzip found by its magic bytes, not the name)', async () => {
    const path = join(dir, 'named-plain.json');
    await writeFile(path, gzipSync(lineCapsuleText(sample)));
    const result = await runCli(['inspect', path, '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(parseJsonOutput(result.stdout)).toMatchObject({
      compressed: true,
      layout: 'replay-env/rows-per-line/v1',
      integrity: { status: 'verified' },
      rowCounts: { customers: 2 },
    });
  });
});
