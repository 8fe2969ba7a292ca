import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect } from 'vitest';
import { parse, stringify } from 'yaml';

import { loadManifest } from '../../../src/manifest/index.js';
import { exportCapsule } from '../../../src/services/export.js';
import { materialize } from '../../../src/services/materialize.js';
import { repoRoot } from '../../setup/cli.js';
import { dbTest } from '../../setup/database.js';
import { useTempDir } from '../../setup/temp-dir.js';
import { doctor, lines, loadSql } from './helpers.js';

// Issue #14 item 7: doctor must not pass a manifest whose reload fails. Without a deletePredicate on
// reactions, the reload deletes the graph's comments and keeps the reactions pointing at them.
let dir: string;
useTempDir('doctor-reload-', (path) => (dir = path));

async function teamdeskWithout(table: string): Promise<string> {
  const raw = parse(await readFile(join(repoRoot, 'config/apps/teamdesk.yaml'), 'utf8')) as {
    postgres: { tables: { name: string; deletePredicate?: string }[] };
  };
  for (const entry of raw.postgres.tables) if (entry.name === table) delete entry.deletePredicate;
  const path = join(dir, 'teamdesk.yaml');
  await writeFile(path, stringify(raw));
  return path;
}

describe('doctor: reloads', () => {
  dbTest(
    'a table without deletePredicate pointing at one with it fails, naming what to add',
    async ({ db }) => {
      await loadSql(db, 'config/apps/teamdesk/schema.sql');
      const path = await teamdeskWithout('reactions');
      const result = await doctor(path, db);
      expect(result.ok).toBe(false);
      const failures = lines(result, 'fail');
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatch(
        /^tables\[reactions\]\.deletePredicate: none, but comments has one: a reload deletes the graph's comments rows first .*foreign key reactions_comment_id_fkey.* the second load fails; add tables\[reactions\]\.deletePredicate/,
      );
      expect(lines(result, 'pass').some((line) => line.startsWith('tables[reactions].deletePredicate'))).toBe(
        false,
      );
    },
  );

  dbTest(
    'what doctor fails really fails: the second load of that manifest violates the key',
    async ({ db }) => {
      await loadSql(db, 'config/apps/teamdesk/schema.sql');
      await loadSql(db, 'config/apps/teamdesk/seed.sql');
      const manifest = await loadManifest(await teamdeskWithout('reactions'));
      const capsulePath = join(dir, 'ada.json');
      const subject = { tenant_id: 'acme', user_id: 'ada' };
      await exportCapsule({
        manifest,
        subject,
        databaseUrl: db.url,
        out: capsulePath,
        sinceDays: 3650,
        redaction: 'safe',
      });
      const target = await db.sibling();
      await loadSql(target, 'config/apps/teamdesk/schema.sql');
      await materialize({ manifest, capsulePath, databaseUrl: target.url });
      await expect(materialize({ manifest, capsulePath, databaseUrl: target.url })).rejects.toThrow(
        /reactions_comment_id_fkey/,
      );
    },
  );
});
