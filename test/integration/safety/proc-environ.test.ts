import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect } from 'vitest';

import { runCli } from '../../setup/cli.js';
import { dbTest, type TestDatabase } from '../../setup/database.js';
import { createSchema, writeApp } from '../run/helpers.js';

// #13 item 4, the kernel's copy: a command started by `run` reads /proc/$PPID/environ (its shell) and
// every ancestor's up to pid 1, the CLI among them. Nothing pointing at production may be there, in any
// form the scrubber knows, and the run must still have reached the replay database.

const prodPassword = 'Pr0d/Only+Secret=9f3a';
const prodUrl = `postgres://app:${encodeURIComponent(prodPassword)}@prod-db.internal.invalid:5432/shop`;
const productionEnv = {
  APP_PROD_DATABASE_URL: prodUrl,
  DATABASE_URL: prodUrl,
  PGHOST: 'prod-db.internal.invalid',
  PGPASSWORD: prodPassword,
  PGSERVICE: 'prod',
  SHOP_DB: prodUrl.replace('prod-db', 'PROD-DB'),
};

/**
 * Writes `direct:` and the environment of $PPID (for `sh -c`, the CLI itself), then, from the shell up to
 * pid 1, `== pid cmdline` and the environment of each process.
 */
const walkAncestors = `
  echo "direct: $(tr '\\0' ' ' < /proc/$PPID/cmdline)" >> "$OUT"; tr '\\0' '\\n' < /proc/$PPID/environ >> "$OUT"
  pid=$$
  while [ "$pid" -gt 1 ]; do
    echo "== $pid $(tr '\\0' ' ' < /proc/$pid/cmdline)" >> "$OUT"
    tr '\\0' '\\n' < /proc/$pid/environ >> "$OUT" 2>&1
    pid=$(sed 's/.*) //' /proc/$pid/stat | cut -d' ' -f2)
  done`;

/** Every form of the production secret the scrubber knows, none of which may appear. */
function forbiddenForms(): string[] {
  const b64 = (text: string): string => Buffer.from(text).toString('base64');
  return [
    prodUrl,
    prodPassword,
    encodeURIComponent(prodPassword),
    b64(prodUrl),
    b64(prodPassword),
    'prod-db.internal.invalid',
    'PROD-DB',
  ];
}

async function runWalking(db: TestDatabase, commands: Record<string, unknown>[]) {
  await createSchema(db);
  const out = join(await mkdtemp(join(tmpdir(), 'replay-env-environ-')), 'ancestors.txt');
  const app = await writeApp({
    manifest: {
      commands: commands.map((command) => ({ ...command, env: { OUT: out } })),
      probes: [{ name: 'users', kind: 'sql', sql: 'select count(*) from users', expectValue: 2 }],
    },
  });
  const trace = join(app.dir, 'trace.json');
  const result = await runCli(
    ['run', '--app', join(app.dir, 'app.json'), '--capsule', app.capsule, '--trace-out', trace],
    {
      cwd: app.dir,
      env: { ...productionEnv, APP_REPLAY_DATABASE_URL: db.url.connectionString() },
    },
  );
  const seen = await readFile(out, 'utf8');
  return { result, seen, trace: await readFile(trace, 'utf8') };
}

describe.runIf(process.platform === 'linux')('/proc/<pid>/environ of the CLI and its children', () => {
  dbTest(
    'a command walking its ancestors finds no production value; the run still loaded',
    async ({ db }) => {
      const { result, seen, trace } = await runWalking(db, [
        { name: 'walk', run: walkAncestors },
        // A background command reads while the CLI is waiting on the others.
        { name: 'walk-bg', run: `${walkAncestors}; sleep 30`, background: true },
        { name: 'after', run: 'sleep 1' },
      ]);
      expect(result.exitCode, result.stderr).toBe(0);
      // The walk did reach the CLI (node …/bin/run.js run …) and read its environment.
      expect(seen).toMatch(/== \d+ node \S*bin\/run\.js run --app/);
      expect(seen).toMatch(/^PGPASSWORD=\*{21}$/m);
      expect(seen).toMatch(/^APP_PROD_DATABASE_URL=\*+$/m);
      expect(seen).toMatch(/^direct: node \S*bin\/run\.js run --app/m);
      expect(seen).toMatch(/^== \d+ \/bin\/sh -c/m);
      for (const form of forbiddenForms()) {
        expect(seen, form).not.toContain(form);
        expect(result.stdout + result.stderr + trace, form).not.toContain(form);
      }
      expect(JSON.parse(trace)).toMatchObject({
        gate: 'continue',
        facts: { probes_failed: 0, probes_total: 1 },
      });
      expect(await db.query('select user_id from users order by 1')).toEqual([
        { user_id: 'u1' },
        { user_id: 'u2' },
      ]);
    },
  );

  dbTest('a failing command was started after the scrub too (exit 11)', async ({ db }) => {
    const { result, seen } = await runWalking(db, [
      { name: 'walk-then-fail', run: `${walkAncestors}; exit 3` },
    ]);
    expect(result.exitCode, result.stderr).toBe(11);
    expect(seen).toMatch(/== \d+ node \S*bin\/run\.js run --app/);
    for (const form of forbiddenForms()) expect(seen, form).not.toContain(form);
  });
});
