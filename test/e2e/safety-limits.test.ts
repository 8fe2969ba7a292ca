import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { execa } from 'execa';
import { describe, expect } from 'vitest';

import { accountsManifest, accountsSchema, bigEventSql } from '../setup/accounts-app.js';
import { capsuleDir, lineCapsuleText } from '../setup/capsules.js';
import { repoRoot, runCli } from '../setup/cli.js';
import { dbTest } from '../setup/database.js';
import { exportArgs, loadArgs } from '../setup/load-command.js';

// #13 item 5: long lines are read in linear time, a line over the limit is one error (exit 6) naming
// table and line, and decompression is bounded.

const runJs = fileURLToPath(new URL('../../bin/run.js', import.meta.url));
const base = {
  app: 'acct',
  subject: { account_id: 'a1' },
  graph: [{ account_id: 'a1', reasons: ['subject'] }],
};
const mib = 1024 * 1024;

describe('size limits', () => {
  dbTest('a row over the per-line limit: exit 6 naming table and line', async () => {
    const dir = await capsuleDir();
    const path = join(dir, 'long.json');
    const body = 'x'.repeat(2 * mib);
    await writeFile(
      path,
      lineCapsuleText({ ...base, tables: { accounts: [{ account_id: 'a1' }], events: [{ id: 1, body }] } }),
    );
    const result = await runCli(['inspect', path], { env: { REPLAY_ENV_MAX_LINE_BYTES: String(mib) } });
    expect(result.exitCode).toBe(6);
    expect(result.stderr).toMatch(
      /^error: capsule line \d+ \(table events\) is longer than 1 MiB \(the per-line limit\)$/m,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  dbTest('a .gz whose last row never ends stops at the line limit, quickly', async () => {
    const dir = await capsuleDir();
    const path = join(dir, 'endless.json.gz');
    const text = lineCapsuleText({ ...base, tables: { events: [{ id: 1, body: 'MARK' }] } });
    const endless = text.slice(0, text.indexOf('MARK')) + 'a'.repeat(48 * mib);
    await writeFile(path, gzipSync(Buffer.from(endless)));
    const started = Date.now();
    const result = await runCli(['inspect', path], { env: { REPLAY_ENV_MAX_LINE_BYTES: String(4 * mib) } });
    expect(result.exitCode).toBe(6);
    expect(result.stderr).toMatch(/error: capsule line \d+ \(table events\) is longer than 4 MiB/);
    // A hang detector, not a speed figure.
    expect(Date.now() - started).toBeLessThan(90_000);
  });

  dbTest('a 48 MB .gz with no newline at all (not the line layout): exit 6, no hang', async () => {
    const dir = await capsuleDir();
    const path = join(dir, 'flat.json.gz');
    await writeFile(path, gzipSync(Buffer.from(`{"a":"${'a'.repeat(48 * mib)}`)));
    const started = Date.now();
    const result = await runCli(['inspect', path]);
    expect(result.exitCode).toBe(6);
    expect(result.stderr).toMatch(/^error: capsule .*flat\.json\.gz /m);
    // A hang detector, not a speed figure: ~5 s idle, so a loaded runner has ample room.
    expect(Date.now() - started).toBeLessThan(90_000);
  });

  dbTest('a capsule that expands past the limit is refused (gzip bomb)', async () => {
    const dir = await capsuleDir();
    const path = join(dir, 'bomb.json.gz');
    const rows = Array.from({ length: 3000 }, (_, id) => ({ id, body: 'y'.repeat(1000) }));
    await writeFile(
      path,
      gzipSync(lineCapsuleText({ ...base, tables: { accounts: [{ account_id: 'a1' }], events: rows } })),
    );
    const result = await runCli(['inspect', path], { env: { REPLAY_ENV_MAX_CAPSULE_BYTES: String(mib) } });
    expect(result.exitCode).toBe(6);
    expect(result.stderr).toMatch(
      /error: capsule .*bomb\.json\.gz expands to more than 1 MiB of text \(the limit\)/,
    );
  });
});

/** Runs the CLI under /usr/bin/time: exit code, wall seconds, max RSS in MB. */
async function timed(
  args: string[],
): Promise<{ exitCode: number; seconds: number; rssMb: number; stdout: string; stderr: string }> {
  const result = await execa('/usr/bin/time', ['-f', 'TIME %e %M', 'node', runJs, ...args], {
    reject: false,
    cwd: repoRoot,
    env: { NO_COLOR: '1' },
  });
  const match = /TIME ([\d.]+) (\d+)/.exec(String(result.stderr))!;
  return {
    exitCode: result.exitCode ?? -1,
    seconds: Number(match[1]),
    rssMb: Math.round(Number(match[2]) / 1024),
    stdout: String(result.stdout),
    stderr: String(result.stderr),
  };
}

dbTest(
  'a 50 MB value: export, inspect, materialize each well under a minute (figures printed)',
  async ({ db }) => {
    await db.query(accountsSchema);
    await db.query(bigEventSql);
    const dir = await capsuleDir();
    const app = join(dir, 'app.json');
    await writeFile(app, JSON.stringify(accountsManifest));
    const capsule = join(dir, 'big.json');
    const exported = await timed(exportArgs(app, { account_id: 'big' }, db.url.connectionString(), capsule));
    expect(exported.exitCode, exported.stderr).toBe(0);
    const inspected = await timed(['inspect', capsule]);
    expect(inspected.exitCode, inspected.stderr).toBe(0);
    const replay = await db.sibling();
    await replay.query(accountsSchema);
    const loaded = await timed(
      loadArgs('materialize-postgres', { app, capsule, url: replay.url.connectionString() }, ['--json']),
    );
    expect(loaded.exitCode, loaded.stderr).toBe(0);
    expect(JSON.parse(loaded.stdout)).toMatchObject({
      verified: true,
      rowCounts: { accounts: 1, events: 1 },
    });
    const [a] = await db.query<{ md5: string; length: number }>('select md5(body), length(body) from events');
    expect(a!.length).toBe(52_428_800);
    const [b] = await replay.query<{ md5: string; length: number }>(
      'select md5(body), length(body) from events',
    );
    expect(b).toEqual(a);
    const figures = { export: exported, inspect: inspected, materialize: loaded };
    for (const [name, figure] of Object.entries(figures)) {
      // Printed, not asserted: speed is measured by bench/, never by timing assertions (a loaded
      // 2-core runner took 31 s here).
      console.log(`50 MB value ${name}: ${figure.seconds} s, max RSS ${figure.rssMb} MB`);
    }
  },
);
