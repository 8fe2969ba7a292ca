import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { expect } from 'vitest';

import { runDoctor } from '../../../src/services/doctor.js';
import { capsuleDir } from '../../setup/capsules.js';
import { repoRoot } from '../../setup/cli.js';
import { dbTest } from '../../setup/database.js';
import { loadSql } from './helpers.js';

const manifest = 'test/fixtures/fidelity/manifest.yaml';

// issue #14 items 5 and 6 on test/fixtures/fidelity: an integer subject key cast in the manifest's SQL
// (`g.customer_id::int`, as docs/app-manifest.md recommends) and a range-partitioned table with
// foreign keys declared on it (cloned by Postgres onto each partition).
dbTest(
  'the fidelity fixture passes doctor: casts plan, partitions are read as their parent',
  async ({ db }) => {
    await loadSql(db, 'test/fixtures/fidelity/schema.sql');
    const result = await runDoctor({ app: manifest, dbUrl: db.url.connectionString(), env: {} });
    const database = result.checks.filter((check) => !check.id.startsWith('manifest.'));
    expect(database.filter((check) => check.status !== 'pass')).toEqual([]);
    expect(database.map((check) => check.id)).toContain('sql');
    expect(result.ok).toBe(true);
  },
);

dbTest('a table order with the partitioned table before its parents fails', async ({ db }) => {
  await loadSql(db, 'test/fixtures/fidelity/schema.sql');
  const text = await readFile(join(repoRoot, manifest), 'utf8');
  const path = join(await capsuleDir(), 'manifest.yaml');
  await writeFile(
    path,
    text.replace('tableOrder: [customer, film, payment]', 'tableOrder: [payment, customer, film]'),
  );
  const result = await runDoctor({ app: path, dbUrl: db.url.connectionString(), env: {} });
  const failed = result.checks.filter((check) => check.status === 'fail');
  expect(failed.map((check) => check.detail).join('\n')).toMatch(/payment/);
  expect(result.ok).toBe(false);
});
