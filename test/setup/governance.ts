import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { generateIdentity, identityToRecipient } from 'age-encryption';

import { loadManifest, type ParsedManifest } from '../../src/manifest/index.js';
import { auditLogName } from './capsule-folder.js';
import { type CliResult, repoRoot, runCli } from './cli.js';
import type { TestDatabase } from './database.js';
import { runLoadCommand } from './load-command.js';

/** The original tool's shop fixture (test/fixtures/original-tool): a manifest, its schema and rows. */
export const originalToolFixture = (name: string) => join(repoRoot, 'test/fixtures/original-tool', name);
export const originalToolApp = originalToolFixture('manifest.json');

/** The shop fixture's parsed manifest and its schema and data SQL, as tests load them. */
export async function originalToolFiles(): Promise<{
  manifest: ParsedManifest;
  schemaSql: string;
  dataSql: string;
}> {
  return {
    manifest: await loadManifest(originalToolApp),
    schemaSql: await readFile(originalToolFixture('schema.sql'), 'utf8'),
    dataSql: await readFile(originalToolFixture('data.sql'), 'utf8'),
  };
}
export const originalToolSubject = [
  '--subject',
  'shop_id=s1',
  '--subject',
  'customer_id=c1',
  '--since-days',
  '3650',
];

/** Whether the standard `age` CLI is installed (tests comparing with it say so when it is not). */
export const ageCliInstalled = spawnSync('age', ['--version']).status === 0;

export interface GovernanceFolder {
  /** A fresh temporary folder for capsules (and so for their audit log). */
  dir: string;
  /** An age identity file (mode 0600) in `dir`, and the identity and recipient it holds. */
  keyFile: string;
  identity: string;
  recipient: string;
  /** The test database's URL, with the tester password (as a user would pass it). */
  url: string;
}

/** Loads the shop fixture into `db` and makes a capsule folder with a fresh age identity. */
export async function governanceFolder(db: TestDatabase): Promise<GovernanceFolder> {
  await db.query(await readFile(originalToolFixture('schema.sql'), 'utf8'));
  await db.query(await readFile(originalToolFixture('data.sql'), 'utf8'));
  const dir = await mkdtemp(join(tmpdir(), 'replay-env-governance-'));
  const identity = await generateIdentity();
  const recipient = await identityToRecipient(identity);
  const keyFile = join(dir, 'key.txt');
  await writeFile(keyFile, `${identity}\n`, { mode: 0o600 });
  return { dir, keyFile, identity, recipient, url: db.url.connectionString() };
}

/** `export-postgres` of the shop fixture's subject s1/c1 from `url` into `out`. */
export function exportShop(url: string, out: string, extra: string[] = [], app = originalToolApp) {
  return runCli([
    'export-postgres',
    '--app',
    app,
    ...originalToolSubject,
    '--db-url',
    url,
    '--out',
    out,
    ...extra,
  ]);
}

/**
 * `materialize-postgres` or `run` of the shop manifest (which has no commands or probes: run materializes
 * and judges) on `capsule`, into `url` (a test database, so --allow-unsafe-target).
 */
export function loadShop(
  command: 'materialize-postgres' | 'run',
  url: string,
  capsule: string,
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<CliResult> {
  return runLoadCommand(
    command,
    { app: originalToolApp, capsule, url },
    ['--allow-unsafe-target', ...extra],
    env,
  );
}

/** The audit log of `dir`, one parsed object per line. */
export async function readAuditEntries(dir: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(join(dir, auditLogName), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** `command:outcome[:error]` per audit line: the sequence a test expects. */
export const auditSteps = (entries: Record<string, unknown>[]) =>
  entries.map((e) => `${String(e.command)}:${String(e.outcome)}${e.error ? `:${String(e.error)}` : ''}`);

/** stderr/stdout lines without Node's own warnings. */
export const outputLines = (text: string) =>
  text.split('\n').filter((line) => line && !line.startsWith('(node:'));
