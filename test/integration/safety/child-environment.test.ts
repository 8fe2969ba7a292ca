import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { expect } from 'vitest';

import { childEnv } from '../../../src/run/child-env.js';
import { runReplay } from '../../../src/services/run.js';
import { dbTest } from '../../setup/database.js';
import { createSchema, writeApp } from '../run/helpers.js';

// #13 item 4: children get an allow-listed environment; nothing that points at production reaches
// them, and encoded forms of the production secret are scrubbed from the trace.

const prodPassword = 'Pr0d-Only-Secret-9f3a';
const prodUrl = `postgres://app:${prodPassword}@prod-db.internal.invalid:5432/shop`;

dbTest(
  'a command sees no PG*, DATABASE_URL or production alias; base64 of the URL is scrubbed',
  async ({ db }) => {
    await createSchema(db);
    const app = await writeApp({
      manifest: {
        commands: [{ name: 'print-env', run: 'env | sort; printf "%s" "$LEAK" | base64 -w0; echo' }],
      },
    });
    const traceOut = join(app.dir, 'trace.json');
    const parentEnv = {
      PATH: process.env.PATH,
      HOME: '/tmp',
      APP_PROD_DATABASE_URL: prodUrl,
      PGHOST: 'prod-db.internal.invalid',
      PGPASSWORD: prodPassword,
      PGSERVICE: 'prod',
      PGPASSFILE: '/home/me/.pgpass',
      DATABASE_URL: prodUrl,
      SOME_ALIAS: `postgresql://other:x@PROD-DB.internal.invalid.:5432/shop`,
      AWS_SECRET_ACCESS_KEY: 'not-for-children',
    };
    app.manifest.commands[0]!.env = { LEAK: prodUrl };
    const result = await runReplay({
      manifest: app.manifest,
      capsule: app.capsule,
      dbUrl: db.url.connectionString(),
      traceOut,
      env: parentEnv,
    });
    const trace = await readFile(traceOut, 'utf8');
    const command = result.trace.events.find((event) => event.kind === 'command') as {
      stdout: { text?: string; head?: string };
    };
    const printed = JSON.stringify(command.stdout);
    for (const name of [
      'PGHOST',
      'PGPASSWORD',
      'PGSERVICE',
      'PGPASSFILE',
      'DATABASE_URL',
      'SOME_ALIAS',
      'AWS_SECRET',
    ]) {
      expect(printed).not.toMatch(new RegExp(`(^|\\\\n|")${name}`));
    }
    expect(printed).toContain(
      'APP_PROD_DATABASE_URL=postgres://replay-env-blocked@127.0.0.1:1/blocked-by-replay-env',
    );
    expect(printed).toContain('APP_REPLAY_DATABASE_URL=');
    // The step's own env is passed, but it points at production: dropped.
    expect(printed).not.toContain('LEAK=');
    expect(trace).not.toContain(prodPassword);
    expect(trace).not.toContain(Buffer.from(prodUrl).toString('base64'));
  },
);

dbTest('childEnv: allow-list, then the step env, then replay and blocked production URLs', () => {
  const env = childEnv({
    manifest: { postgres: { replayDatabaseUrlEnv: 'R', prodDatabaseUrlEnv: 'P' } } as never,
    databaseUrl: undefined,
    parentEnv: { PATH: '/bin', LC_ALL: 'C', PGUSER: 'x', P: prodUrl, OTHER: 'y' },
    extra: { PGAPPNAME: 'mine', COPY: prodUrl.replace('app:', 'other:') },
  });
  expect(env).toEqual({
    PATH: '/bin',
    LC_ALL: 'C',
    PGAPPNAME: 'mine',
    P: expect.stringContaining('blocked'),
  });
});
