import { mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect } from 'vitest';

import { proxyClient } from '../integration/session/helpers.js';
import { type CliResult, repoRoot, runCli } from '../setup/cli.js';
import { dbTest, testerPassword } from '../setup/database.js';
import { exportArgs, loadArgs } from '../setup/load-command.js';
import { startRecord } from '../setup/record-cli.js';
import { teamdeskManifestFile } from '../setup/teamdesk-app.js';

// The database password (the test role's, given in every URL below) must never appear in anything
// replay-env prints or writes: stdout, stderr, debug logs, --json errors, capsules, traces, JUnit
// reports, session files. Files holding customer data are created mode 0600.

const ada = { tenant_id: 'acme', user_id: 'ada' };
const subject = ['--subject', 'tenant_id=acme', '--subject', 'user_id=ada'];

dbTest(
  'no command prints or writes the database password, on success or failure',
  async ({ db }) => {
    const password = testerPassword();
    const app = await teamdeskManifestFile();
    const dir = await mkdtemp(join(tmpdir(), 'reliability-secrets-'));
    await db.query(await readFile(join(repoRoot, 'config/apps/teamdesk/schema.sql'), 'utf8'));
    await db.query(await readFile(join(repoRoot, 'config/apps/teamdesk/seed.sql'), 'utf8'));
    const replay = await db.sibling();
    await replay.query(await readFile(join(repoRoot, 'config/apps/teamdesk/schema.sql'), 'utf8'));
    const source = db.url.connectionString();
    const target = replay.url.connectionString();
    const wrong = new URL(target);
    wrong.password = `${password}-wrong`; // contains the password: it must not leak either
    const env = { TEAMDESK_PROD_DATABASE_URL: source, TEAMDESK_REPLAY_DATABASE_URL: target };
    const capsule = join(dir, 'acme-ada.json');
    const trace = join(dir, 'trace.json');
    const junit = join(dir, 'junit.xml');
    const broken = join(dir, 'broken.json');
    const outputs: Array<[string, CliResult]> = [];
    const cli = async (name: string, args: string[], expected: number) => {
      const result = await runCli(args, { env });
      expect(result.exitCode, `${name}: ${result.stderr}`).toBe(expected);
      outputs.push([name, result]);
      return result;
    };
    const debug = ['--log-level', 'debug'];

    await cli('playbook', ['playbook', '--app', app], 0);
    await cli('doctor', ['doctor', '--app', app, '--db-url', target, ...debug], 0);
    await cli('doctor --json', ['doctor', '--app', app, '--db-url', target, '--json'], 0);
    await cli('export', exportArgs(app, ada, source, capsule, debug), 0);
    await cli(
      'export --dry-run-sql',
      ['export-postgres', '--app', app, ...subject, '--dry-run-sql', ...debug],
      0,
    );
    await cli(
      'export --explain',
      ['export-postgres', '--app', app, ...subject, '--explain', '--out', join(dir, 'x.json')],
      0,
    );
    await cli('inspect', ['inspect', capsule, ...debug], 0);
    await cli('materialize', loadArgs('materialize-postgres', { app, capsule, url: target }, debug), 0);
    await cli(
      'materialize --json',
      ['materialize-postgres', '--app', app, '--capsule', capsule, '--json', '--profile'],
      0,
    );
    await cli(
      'run',
      ['run', '--app', app, '--capsule', capsule, '--trace-out', trace, '--junit', junit, ...debug],
      0,
    );
    await cli('run --json', ['run', '--app', app, '--capsule', capsule, '--json', ...debug], 0);

    // Error paths: a wrong password, a SQL error in the middle of a load, an export source as target.
    await cli('doctor, wrong password', ['doctor', '--app', app, '--db-url', wrong.toString(), ...debug], 7);
    await cli(
      'export, wrong password',
      exportArgs(app, ada, wrong.toString(), join(dir, 'no.json'), ['--json', ...debug]),
      3,
    );
    await cli(
      'materialize, wrong password',
      loadArgs('materialize-postgres', { app, capsule, url: wrong.toString() }, ['--json', ...debug]),
      3,
    );
    await cli(
      'run, wrong password',
      loadArgs('run', { app, capsule, url: wrong.toString() }, ['--json', ...debug]),
      11,
    );
    const text = await readFile(capsule, 'utf8');
    await import('node:fs/promises').then(({ writeFile }) =>
      writeFile(
        broken,
        text
          .replace(/"ticket_id":\s*"?[\w-]+"?/, '"ticket_id": 999999999')
          .replace(/"integrity"[\s\S]*$/, '"x": 0\n}\n'),
      ),
    );
    const sqlError = await cli(
      'materialize, SQL error mid-load',
      loadArgs('materialize-postgres', { app, capsule: broken, url: target }, ['--json', ...debug]),
      3,
    );
    expect(JSON.parse(sqlError.stdout).error.code).toMatch(/^database_/);
    await cli(
      'materialize into the export source',
      loadArgs('materialize-postgres', { app, capsule, url: source }, ['--json']),
      4,
    );

    // record + replay: the proxy logs in with the real credentials; the session file must not hold them.
    const sessions = join(dir, 'sessions');
    const record = await startRecord(source, sessions, debug);
    const client = await proxyClient(record.port);
    await client.query('select current_user');
    await client.query('select * from users where tenant_id = $1', ['acme']);
    await client.query('select * from no_such_table').catch(() => {});
    await client.end();
    await new Promise((resolve) => setTimeout(resolve, 200));
    record.child.kill('SIGINT');
    expect((await record.child).exitCode).toBe(0);
    const [sessionName] = (await readdir(sessions)).filter((name) => name.endsWith('.json'));
    const session = join(sessions, sessionName!);
    await cli('replay', ['replay', session, '--db-url', source, '--rollback', ...debug], 0);
    await cli(
      'replay --json, wrong password',
      ['replay', session, '--db-url', wrong.toString(), '--json', ...debug],
      3,
    );

    for (const [name, result] of outputs) {
      expect(result.stdout, `${name} stdout`).not.toContain(password);
      expect(result.stderr, `${name} stderr`).not.toContain(password);
    }
    expect(record.output()).not.toContain(password);
    // Debug logging really was on: on errors it logs the stack, scrubbed (otherwise the check proves little).
    for (const name of ['export, wrong password', 'materialize, SQL error mid-load'])
      expect(outputs.find(([entry]) => entry === name)![1].stderr).toMatch(
        /"level":20,.*"msg":"error stack"/,
      );
    for (const file of [capsule, trace, junit, session]) {
      expect(await readFile(file, 'utf8'), file).not.toContain(password);
      expect((await stat(file)).mode & 0o777, file).toBe(0o600);
    }
    // The trace names the databases it used, without the password.
    expect(await readFile(trace, 'utf8')).toMatch(/replay_tester:\*\*\*@|127\.0\.0\.1:\d+\/t_/);
    // About twenty CLI runs one after the other: 216 s alone on a loaded 2-core machine (load ~16).
  },
  400_000,
);
