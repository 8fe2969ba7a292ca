import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, expect } from 'vitest';

import { CapsuleError } from '../../../src/errors.js';
import { dbTest } from '../../setup/database.js';
import { exportOwner, ownerManifest } from '../../setup/export-owner.js';
import { useTempDir } from '../../setup/temp-dir.js';

let dir: string;
useTempDir('row-line-limit-', (path) => (dir = path));

afterEach(() => {
  delete process.env.REPLAY_ENV_MAX_LINE_BYTES;
});

// Export refuses a row the capsule reader would refuse (REPLAY_ENV_MAX_LINE_BYTES, docs/safety.md), and
// writes nothing: a row that fits in one COPY read, one spanning many, and one closure's key splitter
// hands on whole (with closure, rows reach the capsule through it).
const schema = `
  create table orgs (id int primary key, owner text);
  create table users (id int primary key, owner text, org_id int references orgs);
  create table logs (id int primary key, owner text, user_id int references users);
  insert into orgs values (1, 'x');
  insert into users values (1, 'me', 1), (2, 'x', 1);
  insert into logs values (1, 'me', 2);
`;

for (const closure of [undefined, 'parents'] as const) {
  for (const padding of [60_000, 300_000]) {
    dbTest(
      `a ${padding}-byte row over a 50000-byte limit${closure ? ', with closure' : ''}: refused, nothing written`,
      async ({ db }) => {
        await db.query(schema);
        const manifest = ownerManifest('long', {
          ...(closure ? { closure } : {}),
          tableOrder: ['orgs', 'users', 'logs'],
          tables: [
            { name: 'orgs', where: 'false' },
            { name: 'users', rowSql: `to_jsonb(t) || jsonb_build_object('pad', repeat('x', ${padding}))` },
            { name: 'logs' },
          ],
        });
        process.env.REPLAY_ENV_MAX_LINE_BYTES = '50000';
        const out = join(dir, 'c.json');
        const failure = await exportOwner(db, manifest, out).catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(CapsuleError);
        expect((failure as CapsuleError).message).toMatch(
          /^tables\[users\]: row 1 is longer than 50000 bytes \(the per-line limit\)$/,
        );
        expect(await readdir(dir)).toEqual([]);
        // Under the limit, the same export goes through.
        process.env.REPLAY_ENV_MAX_LINE_BYTES = String(padding + 1000);
        await exportOwner(db, manifest, out);
        expect(await readdir(dir)).toEqual(['c.json']);
      },
    );
  }
}
