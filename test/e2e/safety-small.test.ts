import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import pg from 'pg';
import { expect } from 'vitest';

import { loadLockKey } from '../../src/materialize/load-lock.js';
import { appCapsule, createSchema, writeApp } from '../integration/run/helpers.js';
import { capsuleDir, lineCapsuleText } from '../setup/capsules.js';
import { runCli } from '../setup/cli.js';
import { dbTest } from '../setup/database.js';
import { runLoadCommand } from '../setup/load-command.js';

// #13 item 9, the small ones, through the built CLI.

dbTest('ANSI/OSC escapes in a capsule subject reach the terminal escaped', async () => {
  const dir = await capsuleDir();
  const path = join(dir, 'esc.json');
  const evil = 'c1\u001b]0;pwned\u0007\u001b[2J';
  await writeFile(
    path,
    lineCapsuleText({
      app: 'acct',
      subject: { account_id: evil },
      graph: [{ account_id: evil, reasons: ['subject'] }],
      tables: { accounts: [{ account_id: evil }] },
    }),
  );
  const result = await runCli(['inspect', path]);
  expect(result.exitCode).toBe(0);
  expect(result.stdout).not.toContain('\u001b');
  expect(result.stdout).not.toContain('\u0007');
  expect(result.stdout).toContain('\\x1b]0;pwned\\x07');
});

dbTest('bad URLs are usage errors (exit 2): %zz and a missing sslcert file', async () => {
  const app = await writeApp({});
  for (const url of [
    'postgres://u:%zz@127.0.0.1:1/db',
    'postgres://u@127.0.0.1:1/db?sslcert=/nonexistent/c.pem',
  ]) {
    const result = await runLoadCommand('materialize-postgres', {
      app: join(app.dir, 'app.json'),
      capsule: app.capsule,
      url,
    });
    expect(result.exitCode, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/^error: .*(%-escape|c\.pem)/m);
    expect(result.stderr).not.toContain('internal error');
  }
});

dbTest('run pointed at the export source exits 4, not 11', async ({ db }) => {
  await createSchema(db);
  const capsule = appCapsule({
    extra: {
      redaction: 'safe',
      source: { kind: 'postgres', database: `localhost:${db.url.port}/${db.name}` },
    },
  });
  const app = await writeApp({ capsule });
  const result = await runLoadCommand('run', {
    app: join(app.dir, 'app.json'),
    capsule: app.capsule,
    url: db.url.connectionString(),
  });
  expect(result.exitCode, result.stdout + result.stderr).toBe(4);
  expect(result.stderr).toMatch(
    /error: refusing to write to .*it is the database the capsule is exported from/,
  );
});

dbTest('a second concurrent materialize says "another load is in progress"', async ({ db }) => {
  await createSchema(db);
  const app = await writeApp({});
  const holder = new pg.Client({ connectionString: db.url.connectionString() });
  await holder.connect();
  try {
    // Stand in for a first load holding the lock (the same lock materialize takes).
    await holder.query('select pg_advisory_lock($1)', [loadLockKey]);
    const result = await runLoadCommand('materialize-postgres', {
      app: join(app.dir, 'app.json'),
      capsule: app.capsule,
      url: db.url.connectionString(),
    });
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toMatch(/^error: replay database .*: another load is in progress$/m);
    expect(await db.query('select count(*)::int as n from users')).toEqual([{ n: 0 }]);
  } finally {
    await holder.end();
  }
  const after = await runLoadCommand('materialize-postgres', {
    app: join(app.dir, 'app.json'),
    capsule: app.capsule,
    url: db.url.connectionString(),
  });
  expect(after.exitCode, after.stderr).toBe(0);
});
