import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll } from 'vitest';

import { type DoctorResult, runDoctor } from '../../../src/services/doctor.js';
import { repoRoot } from '../../setup/cli.js';
import type { TestDatabase } from '../../setup/database.js';

const tempDirs: string[] = [];

/** A temp folder removed after the test file (every file importing these helpers). */
async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

export const shopManifest = 'test/fixtures/original-tool/manifest.json';
export const shopSchema = 'test/fixtures/original-tool/schema.sql';

/** Runs a schema file (several statements) in the test database. */
export async function loadSql(db: TestDatabase, file: string): Promise<void> {
  await db.query(await readFile(join(repoRoot, file), 'utf8'));
}

/** The original fixture manifest, changed by `edit`, written to a temp file; returns its path. */
export async function shopManifestWith(edit: (manifest: ShopManifest) => void): Promise<string> {
  const manifest = JSON.parse(await readFile(join(repoRoot, shopManifest), 'utf8')) as ShopManifest;
  edit(manifest);
  const dir = await tempDir('doctor-manifest-');
  const path = join(dir, 'manifest.json');
  await writeFile(path, JSON.stringify(manifest, null, 2));
  return path;
}

export interface ShopManifest {
  [key: string]: unknown;
  postgres: {
    graphEdges: string[];
    tableOrder: string[];
    tables: Array<Record<string, string>>;
  };
}

/** Writes a capsule file by hand (the original tool's shape: one pretty JSON object). */
export async function writeCapsule(
  tables: Record<string, unknown[]>,
  app = 'shop',
  subject: Record<string, string> = { shop_id: 's1', customer_id: 'c1' },
): Promise<string> {
  const dir = await tempDir('doctor-capsule-');
  const path = join(dir, 'capsule.json');
  const capsule = {
    schemaVersion: 1,
    app,
    adapter: 'postgres-subject-graph.v1',
    subject,
    graph: [{ ...subject, reasons: ['subject'] }],
    tables,
  };
  await writeFile(path, JSON.stringify(capsule, null, 2));
  return path;
}

/** runDoctor against a test database, with an empty environment (no env var leaks in). */
export function doctor(
  app: string,
  db: TestDatabase | undefined,
  extra: { capsule?: string; strict?: boolean } = {},
): Promise<DoctorResult> {
  return runDoctor({ app, dbUrl: db?.url.connectionString(), cwd: repoRoot, env: {}, ...extra });
}

/** The checks with a given status, as `name: detail` lines (what a user reads). */
export function lines(result: DoctorResult, status: 'pass' | 'warn' | 'fail'): string[] {
  return result.checks
    .filter((check) => check.status === status)
    .map((check) => `${check.name}: ${check.detail}`);
}
