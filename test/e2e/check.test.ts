import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect } from 'vitest';

import { sampleApp } from '../../src/demo/sample-app.js';
import { copyShippedLoop, shippedLoopOn, teamdeskReplayDb } from '../integration/golden/helpers.js';
import { parseJsonOutput, runCli } from '../setup/cli.js';
import { dbTest, testerPassword } from '../setup/database.js';
import { teamdeskManifestFile } from '../setup/teamdesk-app.js';

// The sample manifest with its web page on a free port (test files run in parallel).
const teamdeskApp = await teamdeskManifestFile();

/** Every file under a folder, as text (the loop folder after the commands wrote to it). */
async function filesText(dir: string): Promise<string> {
  const names = await readdir(dir, { recursive: true, withFileTypes: true });
  const texts = await Promise.all(
    names
      .filter((entry) => entry.isFile())
      .map((entry) => readFile(join(entry.parentPath, entry.name), 'utf8')),
  );
  return texts.join('\n');
}

/** `scenario add --id escaped-bug-42` of `capsule` into the loop, then `extra`. */
const scenarioAdd = (loop: string, capsule: string, extra: string[] = [], env: Record<string, string> = {}) =>
  runCli(['scenario', 'add', '--loop', loop, '--id', 'escaped-bug-42', '--capsule', capsule, ...extra], {
    env,
  });

/** `check` of the loop with the teamdesk manifest against the replay database `url`, then `extra`. */
const checkTeamdesk = (loop: string, url: string, extra: string[] = []) =>
  runCli(['check', '--loop', loop, '--app', teamdeskApp, '--db-url', url, ...extra]);

describe('golden save, scenario add, check (built CLI)', () => {
  dbTest(
    'run → scenario add --from-trace → check: one JSON document each, exit codes, no password anywhere',
    async ({ db }) => {
      const { loop } = await shippedLoopOn(db);
      const env = { [sampleApp.replayEnv]: db.url.connectionString() };
      const capsule = join(loop, 'scenarios', 'teamdesk-acme-ada.json');
      const trace = join(loop, 'first-trace.json');
      const run = await runCli(
        ['run', '--app', teamdeskApp, '--capsule', capsule, '--loop', loop, '--trace-out', trace, '--json'],
        { env },
      );
      expect(run.exitCode).toBe(0);

      const add = await scenarioAdd(
        loop,
        capsule,
        ['--from-trace', trace, '--summary', 'ada sees 3 tickets', '--json'],
        env,
      );
      expect(add.exitCode).toBe(0);
      const added = parseJsonOutput<{
        scenario: { capsule: string; capsule_sha256: string };
        golden: { file: string };
      }>(add.stdout);
      expect(added.scenario).toMatchObject({ capsule: 'scenarios/teamdesk-acme-ada.json' });
      expect(added.scenario.capsule_sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(added.golden.file).toMatch(/golden\/escaped-bug-42\.json$/);
      // The file keeps its comments and the scenarios already there.
      const scenarios = await readFile(join(loop, 'scenarios.yaml'), 'utf8');
      expect(scenarios).toMatch(/^# Scenarios this loop keeps reproducing/);
      expect(scenarios.match(/^ {2}- id: /gm)).toHaveLength(4);

      const again = await scenarioAdd(loop, capsule);
      expect(again.exitCode).toBe(2);
      expect(again.stderr).toMatch(/^error: .*scenarios\.yaml: scenario "escaped-bug-42" already exists$/m);

      const junit = join(loop, 'check.xml');
      const check = await runCli(
        [
          'check',
          '--loop',
          loop,
          '--app',
          teamdeskApp,
          '--junit',
          junit,
          '--trace-dir',
          join(loop, 'traces'),
          '--json',
        ],
        { env },
      );
      expect(check.exitCode, check.stdout.slice(0, 4000)).toBe(0);
      const result = parseJsonOutput<{
        verdict: string;
        scenarios: Array<{ id: string; verdict: string; goldenDiffs: number | null }>;
      }>(check.stdout);
      expect(result.scenarios.map((s) => [s.id, s.verdict, s.goldenDiffs])).toEqual([
        ['cross-user-comment-thread', 'continue', 0],
        ['local-identity-replay', 'warn', 0],
        ['legacy-data-shapes', 'not_executable', null],
        ['escaped-bug-42', 'continue', 0],
      ]);
      expect(result.verdict).toBe('warn');
      expect(await readdir(join(loop, 'traces'))).toEqual(
        expect.arrayContaining(['cross-user-comment-thread.json', 'escaped-bug-42.json']),
      );
      expect(
        run.stdout + add.stdout + add.stderr + check.stdout + check.stderr + (await filesText(loop)),
      ).not.toContain(testerPassword());
    },
  );

  dbTest(
    'a changed answer: check exits 11, the table and JUnit name the field with its old and new value',
    async ({ db }) => {
      await teamdeskReplayDb(db);
      await db.query('alter table tickets alter column amount type numeric(12, 3)');
      const loop = await copyShippedLoop();
      const junit = join(loop, 'check.xml');
      const check = await checkTeamdesk(loop, db.url.connectionString(), ['--junit', junit]);
      expect(check.exitCode).toBe(11);
      expect(check.stdout).toMatch(/│ cross-user-comment-thread │ block +│ 2 +│/);
      expect(check.stdout).toContain(
        'probe acme-tickets: probes.acme-tickets.rows[0][5]: "1234.50" → "1234.500"',
      );
      expect(check.stdout).toMatch(/^verdict: BLOCK \(the worst of 2 scenario\(s\)\)$/m);
      const xml = await readFile(junit, 'utf8');
      expect(xml).toContain('failures="1"');
      expect(xml).toContain('<failure message="block: 2 golden difference(s)">');
      expect(xml).toContain('probes.acme-tickets.rows[0][5]: &quot;1234.50&quot; → &quot;1234.500&quot;');
    },
  );

  dbTest('bad input is one line and a usage exit', async ({ db }) => {
    const loop = await copyShippedLoop();
    const cases: Array<[string[], RegExp]> = [
      [
        ['golden', 'save', join(loop, 'missing.json'), '--loop', loop, '--scenario', 's'],
        /^error: trace .*missing\.json: file not found$/m,
      ],
      [
        ['golden', 'save', join(loop, 'scenarios.yaml'), '--loop', loop, '--scenario', 's'],
        /^error: trace .*: not valid JSON$/m,
      ],
      [
        ['golden', 'save', join(loop, 'x.json'), '--loop', loop, '--scenario', '../up'],
        /^error: --scenario "\.\.\/up": use letters/m,
      ],
      [
        [
          'run',
          '--app',
          teamdeskApp,
          '--loop',
          loop,
          '--scenario',
          'nope',
          '--db-url',
          db.url.connectionString(),
        ],
        /^error: .*scenarios\.yaml: no scenario "nope" \(scenarios: cross-user-comment-thread, local-identity-replay, legacy-data-shapes\)$/m,
      ],
      [
        [
          'run',
          '--app',
          teamdeskApp,
          '--golden',
          join(loop, 'scenarios.yaml'),
          '--skip-materialize',
          '--db-url',
          db.url.connectionString(),
        ],
        /^error: golden trace .*scenarios\.yaml: not valid JSON$/m,
      ],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args);
      expect(result.exitCode, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(message);
    }
    await writeFile(
      join(loop, 'scenarios.yaml'),
      'scenarios:\n  - id: a\n    capsule: x.json\n    expect: [no_such_fact = 1]\n',
    );
    const check = await checkTeamdesk(loop, db.url.connectionString(), ['--json']);
    expect(check.exitCode).toBe(11);
    const result = parseJsonOutput<{ scenarios: Array<{ error: { message: string } }> }>(check.stdout);
    expect(result.scenarios[0]!.error.message).toMatch(/capsule .*x\.json: file not found/);
  });
});
