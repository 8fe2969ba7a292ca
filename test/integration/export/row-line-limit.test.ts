import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, expect } from 'vitest';

import { CapsuleError } from '../../../src/errors.js';
import { runCli } from '../../setup/cli.js';
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

dbTest(
  'a row line exactly at the limit is written and read back; one byte more is refused',
  async ({ db }) => {
    await db.query(schema);
    const manifest = ownerManifest('long', {
      tables: [
        {
          name: 'users',
          rowSql: `to_jsonb(t) || jsonb_build_object('pad', repeat('x', 60000))`,
          orderBy: 't.id',
        },
      ],
    });
    const out = join(dir, 'c.json');
    await exportOwner(db, manifest, out);
    // users 1 is the first of two rows: its capsule line is six spaces, the row and a comma.
    const line = (await readFile(out, 'utf8')).split('\n').find((text) => text.includes('"id": 1,'))!;
    expect(line).toMatch(/^ {6}\{.*\},$/);
    const length = Buffer.byteLength(line);
    await rm(out);
    process.env.REPLAY_ENV_MAX_LINE_BYTES = String(length);
    await exportOwner(db, manifest, out);
    const inspected = await runCli(['inspect', out], { env: { REPLAY_ENV_MAX_LINE_BYTES: String(length) } });
    expect(inspected.exitCode).toBe(0);
    await rm(out);
    process.env.REPLAY_ENV_MAX_LINE_BYTES = String(length - 1);
    await expect(exportOwner(db, manifest, out)).rejects.toThrow(/row 1 is longer than/);
    expect(await readdir(dir)).toEqual([]);
  },
);

dbTest('a header line over the limit (a long subject): refused, nothing written', async ({ db }) => {
  await db.query(schema);
  const manifest = ownerManifest('long', { tables: [{ name: 'users' }] });
  process.env.REPLAY_ENV_MAX_LINE_BYTES = '50000';
  const out = join(dir, 'c.json');
  const failure = exportOwner(db, manifest, out, { subject: { owner: 'm'.repeat(60000) } });
  await expect(failure).rejects.toThrow(
    /^capsule header: the "subject" line is longer than 50000 bytes \(the per-line limit\)$/,
  );
  expect(await readdir(dir)).toEqual([]);
});
