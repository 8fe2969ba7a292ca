import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect } from 'vitest';

import { parseJsonOutput, runCli } from '../setup/cli.js';
import { dbTest, type TestDatabase, testerPassword } from '../setup/database.js';
import { useTempDir } from '../setup/temp-dir.js';

let dir: string;
useTempDir('e2e-init-', (path) => (dir = path));

async function loadFixture(db: TestDatabase): Promise<void> {
  for (const file of ['schema.sql', 'data.sql'])
    await db.query(await readFile(new URL(`../fixtures/init/${file}`, import.meta.url), 'utf8'));
}

describe('replay-env init', () => {
  dbTest(
    '--json: one document with the manifest and the reasoning; the file is written, no password anywhere',
    async ({ db }) => {
      await loadFixture(db);
      const out = join(dir, 'shop.yaml');
      const result = await runCli([
        'init',
        '--db-url',
        db.url.connectionString(),
        '--subject-table',
        'customers',
        '--sample-subject',
        'customer_id=1',
        '--out',
        out,
        '--json',
      ]);
      expect(result.exitCode, result.stderr).toBe(0);
      const json = parseJsonOutput<{
        manifest: { subjectKeys: string[]; postgres: { closure: string } };
        reasoning: { tables: Array<{ name: string; sampleRows?: number | null }> };
      }>(result.stdout);
      expect(json.manifest.subjectKeys).toEqual(['customer_id']);
      expect(json.manifest.postgres.closure).toBe('parents');
      expect(json.reasoning.tables.find((t) => t.name === 'order_lines')?.sampleRows).toBe(3);
      expect(json.reasoning.tables.find((t) => t.name === 'regions')?.sampleRows).toBeNull();
      const yaml = await readFile(out, 'utf8');
      expect(yaml).toMatch(/# sample subject: 3 row\(s\)\n\s+- name: order_lines/);
      expect(yaml).toMatch(/# Not exported:\n#\s+feature_flags: no foreign-key path to customers/);
      for (const text of [result.stdout, result.stderr, yaml]) expect(text).not.toContain(testerPassword());

      const again = await runCli([
        'init',
        '--db-url',
        db.url.connectionString(),
        '--subject-table',
        'customers',
        '--out',
        out,
      ]);
      expect(again.exitCode).toBe(2);
      expect(again.stderr).toMatch(/exists/);
      expect(await readFile(out, 'utf8')).toBe(yaml);
    },
  );

  dbTest('bad input: one line, non-zero exit, nothing written', async ({ db }) => {
    await loadFixture(db);
    const out = join(dir, 'x.yaml');
    const url = db.url.connectionString();
    const cases: Array<[string[], number, RegExp]> = [
      [['--subject-table', 'nope'], 2, /no table "nope"/],
      // An exact catalog name, quoted wherever it is used: simply a table that does not exist.
      [['--subject-table', 'customers; drop table x'], 2, /no table "customers; drop table x"/],
      [['--subject-table', 'a*/b'], 2, /cannot be named in a manifest: a part contains \/\* or \*\//],
      [['--subject-table', 'customers', '--subject-key', 'a b'], 2, /not a plain SQL identifier/],
      [['--subject-table', 'customers', '--subject-key', 'nope'], 2, /no column "nope"/],
      [['--subject-table', 'customers', '--sample-subject', 'id=1'], 2, /customer_id=VALUE/],
    ];
    for (const [args, code, message] of cases) {
      const result = await runCli(['init', '--db-url', url, '--out', out, ...args]);
      expect(result.exitCode, args.join(' ')).toBe(code);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toContain(testerPassword());
    }
    await expect(readFile(out)).rejects.toThrow();
    // A .json name: refused before connecting (the draft is YAML; the loader would read it as JSON).
    const json = join(dir, 'x.json');
    const asJson = await runCli(['init', '--db-url', url, '--subject-table', 'customers', '--out', json]);
    expect(asJson.exitCode).toBe(2);
    expect(asJson.stderr).toMatch(
      /^error: init: --out .*x\.json: init writes YAML \(its reasoning as comments\), not JSON$/m,
    );
    await expect(readFile(json)).rejects.toThrow();
  });

  dbTest('init only reads: a read-only transaction, nothing changes in the database', async ({ db }) => {
    await loadFixture(db);
    const before = await db.query(
      `select sum(n_tup_ins + n_tup_upd + n_tup_del)::text as w from pg_stat_user_tables`,
    );
    const result = await runCli([
      'init',
      '--db-url',
      db.url.connectionString(),
      '--subject-table',
      'customers',
      '--sample-subject',
      'customer_id=1',
    ]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^# Drafted by `replay-env init`/);
    const after = await db.query(
      `select sum(n_tup_ins + n_tup_upd + n_tup_del)::text as w from pg_stat_user_tables`,
    );
    expect(after).toEqual(before);
  });
});
