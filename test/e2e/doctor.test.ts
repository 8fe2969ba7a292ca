import { describe, expect } from 'vitest';

import {
  loadSql,
  shopManifest,
  shopManifestWith,
  shopSchema,
  writeCapsule,
} from '../integration/doctor/helpers.js';
import { parseJsonOutput, runCli } from '../setup/cli.js';
import { dbTest, testerPassword } from '../setup/database.js';

interface DoctorJson {
  ok: boolean;
  checks: Array<{ id: string; status: string; name: string; detail: string }>;
  summary: { passed: number; warnings: number; failed: number };
}

/** The CLI with an environment that names no replay database unless the test gives one. */
const doctor = (args: string[], env: Record<string, string> = {}) =>
  runCli(['doctor', ...args], {
    env: { TEAMDESK_REPLAY_DATABASE_URL: '', SHOP_REPLAY_DATABASE_URL: '', ...env },
    extendEnv: true,
  });

function expectNoPassword(...outputs: string[]): void {
  for (const output of outputs) expect(output).not.toContain(testerPassword());
}

describe('replay-env doctor', () => {
  dbTest('teamdesk against its schema: one line per check, a summary, exit 0', async ({ db }) => {
    await loadSql(db, 'config/apps/teamdesk/schema.sql');
    const result = await doctor([
      '--app',
      'config/apps/teamdesk.yaml',
      '--db-url',
      db.url.connectionString(),
    ]);
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toBe('[pass] manifest: teamdesk loads and validates');
    expect(
      lines
        .filter((line) => line !== '')
        .slice(0, -1)
        .every((line) => /^\[(pass|warn|fail)\] [^:]+: /.test(line)),
    ).toBe(true);
    expect(lines.at(-1)).toMatch(/^\d+ passed, 0 warnings, 0 failed: ok$/);
    expectNoPassword(result.stdout, result.stderr);
  });

  dbTest('--json prints exactly one JSON document with ok, checks and summary', async ({ db }) => {
    await loadSql(db, 'config/apps/teamdesk/schema.sql');
    const result = await doctor(['--app', 'config/apps/teamdesk.yaml', '--json'], {
      TEAMDESK_REPLAY_DATABASE_URL: db.url.connectionString(),
    });
    expect(result.exitCode).toBe(0);
    const body = parseJsonOutput<DoctorJson>(result.stdout);
    expect(Object.keys(body).sort()).toEqual(['checks', 'ok', 'summary']);
    expect(body.ok).toBe(true);
    expect(body.summary).toEqual({ passed: body.checks.length, warnings: 0, failed: 0 });
    expect(Object.keys(body.checks[0]!).sort()).toEqual(['detail', 'id', 'name', 'status']);
    expect(new Set(body.checks.map((check) => check.id)).size).toBe(body.checks.length);
    expectNoPassword(result.stdout, result.stderr);
  });

  dbTest('a failure exits 7, with and without --json', async ({ db }) => {
    await loadSql(db, shopSchema);
    const app = await shopManifestWith((m) => {
      m.postgres.tables[1]!.deletePredicate = 't.shop_idd = g.shop_id';
    });
    const text = await doctor(['--app', app, '--db-url', db.url.connectionString()]);
    expect(text.exitCode).toBe(7);
    expect(text.stdout).toContain(
      '[fail] tables[orders].deletePredicate: column t.shop_idd does not exist in orders (did you mean shop_id?)',
    );
    expect(text.stdout.trim().split('\n').at(-1)).toMatch(/^\d+ passed, 1 warnings, 1 failed: not ok$/);
    const json = await doctor(['--app', app, '--db-url', db.url.connectionString(), '--json']);
    expect(json.exitCode).toBe(7);
    const body = parseJsonOutput<DoctorJson>(json.stdout);
    expect(body.ok).toBe(false);
    expect(body.summary.failed).toBe(1);
    expectNoPassword(text.stdout, text.stderr, json.stdout, json.stderr);
  });

  dbTest('--strict turns warnings into exit 7', async ({ db }) => {
    await loadSql(db, shopSchema);
    const args = ['--app', shopManifest, '--db-url', db.url.connectionString()];
    expect((await doctor(args)).exitCode).toBe(0);
    const strict = await doctor([...args, '--strict']);
    expect(strict.exitCode).toBe(7);
    expect(strict.stdout.trim().split('\n').at(-1)).toMatch(
      /^\d+ passed, 1 warnings, 0 failed: not ok \(--strict: warnings fail\)$/,
    );
    const json = parseJsonOutput<DoctorJson>((await doctor([...args, '--strict', '--json'])).stdout);
    expect(json.ok).toBe(false);
  });

  dbTest.for<[string, string, RegExp]>([
    [
      'unreachable',
      'postgres://replay_tester:PASSWORD@127.0.0.1:1/replay',
      /\[fail\] replay database: .*connection refused/,
    ],
    [
      'production-looking',
      'postgres://replay_tester:PASSWORD@db.prod.internal:5432/shop',
      /\[fail\] target safety: .*looks like production/,
    ],
    ['not a URL', 'mysql://x', /\[fail\] replay database: --db-url must start with postgres:\/\//],
  ])('an %s database is a fail line and exit 7, not a crash', async ([, url, expected]) => {
    const result = await doctor([
      '--app',
      shopManifest,
      '--db-url',
      url.replace('PASSWORD', testerPassword()),
    ]);
    expect(result.exitCode).toBe(7);
    expect(result.stdout).toMatch(expected);
    // Not a crash: no error line, no stack trace (other stderr noise, e.g. node warnings, is not doctor's).
    expect(result.stderr).not.toMatch(/^error:|^\s+at /m);
    expectNoPassword(result.stdout, result.stderr);
  });

  dbTest('--capsule reports dangling references', async ({ db }) => {
    await loadSql(db, shopSchema);
    const capsule = await writeCapsule({
      customers: [],
      orders: [
        { id: 1, shop_id: 's1', customer_id: 'c9', items: [], total: 1, placed_at: '2026-01-01T00:00:00Z' },
      ],
    });
    const result = await doctor([
      '--app',
      shopManifest,
      '--db-url',
      db.url.connectionString(),
      '--capsule',
      capsule,
    ]);
    expect(result.exitCode).toBe(7);
    expect(result.stdout).toContain(
      '[fail] capsule references orders_shop_id_customer_id_fkey: 1 orders row(s) reference 1 customers(shop_id, customer_id) key(s) neither in the capsule nor in the replay database: (s1, c9)',
    );
  });

  dbTest('a manifest the loader rejects is fail lines and exit 7', async () => {
    const result = await doctor([
      '--app',
      'test/fixtures/manifests/broken/unknown-table-order.json',
      '--json',
    ]);
    expect(result.exitCode).toBe(7);
    const body = parseJsonOutput<DoctorJson>(result.stdout);
    expect(body.checks.map((check) => [check.status, check.name])).toEqual([['fail', 'table order']]);
  });

  dbTest('a missing manifest file is a fail line too', async () => {
    const result = await doctor(['--app', 'nope.yaml']);
    expect(result.exitCode).toBe(7);
    expect(result.stdout).toContain('[fail] manifest: nope.yaml: file not found');
  });
});
