import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { loadManifest, type ParsedManifest, parseManifest } from '../../../src/manifest/index.js';
import type { TestDatabase } from '../../setup/database.js';

export const fixturesDir = fileURLToPath(new URL('../../fixtures/original-tool/', import.meta.url));
export const teamdeskDir = fileURLToPath(new URL('../../../config/apps/', import.meta.url));

/** Loads the original tool's shop schema + data into `db`; returns its manifest. */
export async function loadShop(db: TestDatabase): Promise<ParsedManifest> {
  await db.query(await readFile(`${fixturesDir}schema.sql`, 'utf8'));
  await db.query(await readFile(`${fixturesDir}data.sql`, 'utf8'));
  return loadManifest(`${fixturesDir}manifest.json`);
}

/** Loads the teamdesk sample app's schema + seed into `db`; returns its manifest. */
export async function loadTeamdesk(db: TestDatabase): Promise<ParsedManifest> {
  await db.query(await readFile(`${teamdeskDir}teamdesk/schema.sql`, 'utf8'));
  await db.query(await readFile(`${teamdeskDir}teamdesk/seed.sql`, 'utf8'));
  return loadManifest(`${teamdeskDir}teamdesk.yaml`);
}

/** A capsule parsed for assertions, navigated freely (tests check shapes with expect). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- assertions walk arbitrary capsule JSON
export type CapsuleJson = Record<string, any>;

/** Reads a capsule as one JSON document, numbers as plain JS numbers (so 19.90 equals 19.9). */
export async function readCapsuleJson(path: string): Promise<CapsuleJson> {
  return JSON.parse(await readFile(path, 'utf8')) as CapsuleJson;
}

/**
 * Splits a capsule in replay-env's line layout into its row texts per table, checking the layout rules of
 * docs/capsule-format.md on the way (so a test fails when a rule is broken).
 */
export async function capsuleRowTexts(path: string): Promise<Record<string, string[]>> {
  const lines = (await readFile(path, 'utf8')).split('\n');
  if (lines[0] !== '{' || lines[1] !== '  "schemaVersion": 1,') throw new Error('bad capsule start');
  if (lines[2] !== '  "layout": "replay-env/rows-per-line/v1",') throw new Error('bad layout line');
  const start = lines.indexOf('  "tables": {');
  const tables: Record<string, string[]> = {};
  let current: string[] | undefined;
  for (let index = start + 1; index < lines.length; index++) {
    const line = lines[index]!;
    const open = /^ {4}("(?:[^"\\]|\\.)*"): \[$/.exec(line);
    if (open) {
      current = [];
      tables[JSON.parse(open[1]!) as string] = current;
    } else if (line === '    ]' || line === '    ],') {
      current = undefined;
    } else if (line === '  },') {
      break;
    } else if (current && line.startsWith('      ')) {
      current.push(line.slice(6).replace(/,$/, ''));
    } else {
      throw new Error(`unexpected capsule line ${index + 1}: ${line.slice(0, 60)}`);
    }
  }
  return tables;
}

/** Parses a manifest object (as written in a file) with every default applied. */
export function manifestFrom(raw: Record<string, unknown>): ParsedManifest {
  return parseManifest(JSON.stringify(raw), { file: 'test.json', path: '/tmp/test.json', cwd: '/tmp' });
}
