import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect } from 'vitest';
import { parse } from 'yaml';

import { checkLoop } from '../../../src/services/check.js';
import { saveGolden } from '../../../src/services/golden.js';
import { runReplay } from '../../../src/services/run.js';
import { validateAgainstSchema } from '../../../src/validation.js';
import { dbTest } from '../../setup/database.js';
import { shippedLoopOn, startApi } from './helpers.js';

describe('check on the shipped teamdesk loop', () => {
  dbTest(
    'both shipped scenarios pass against their goldens, twice in a row; loop-state records the round',
    async ({ db }) => {
      const { manifest, loop } = await shippedLoopOn(db);
      for (const round of [1, 2]) {
        const result = await checkLoop({
          manifest,
          loop,
          dbUrl: db.url.connectionString(),
          junitOut: join(loop, 'check.xml'),
        });
        expect(
          result.scenarios.map((s) => [s.id, s.verdict, s.goldenDiffs]),
          `round ${round}`,
        ).toEqual([
          ['cross-user-comment-thread', 'continue', 0],
          ['local-identity-replay', 'warn', 0],
          ['legacy-data-shapes', 'not_executable', null],
        ]);
        // The worst verdict: zed's capsule has nobody else in its graph (warn_if graph_related_users = 0).
        expect(result).toMatchObject({ verdict: 'warn', exitCode: 0 });
      }
      const state = parse(await readFile(join(loop, 'loop-state.yaml'), 'utf8')) as {
        last_round: unknown;
        golden_traces: Array<{ scenario: string }>;
      };
      expect(state.last_round).toMatchObject({
        command: 'check',
        gate: 'warn',
        junit: 'check.xml',
        scenarios: { 'cross-user-comment-thread': 'continue', 'legacy-data-shapes': 'not_executable' },
      });
      expect(state.golden_traces.map((entry: { scenario: string }) => entry.scenario)).toEqual([
        'cross-user-comment-thread',
        'local-identity-replay',
      ]);
      // The comments of the file survive the update.
      expect(await readFile(join(loop, 'loop-state.yaml'), 'utf8')).toMatch(/^# Where this loop stands/);
      const junit = await readFile(join(loop, 'check.xml'), 'utf8');
      expect(junit).toContain('tests="3" failures="0" skipped="1"');
    },
  );

  dbTest('a changed database answer fails check with the row, column, old and new value', async ({ db }) => {
    const { manifest, loop } = await shippedLoopOn(db);
    // A migration in the fix under test changes what the replayed history answers: money gets 3 decimals.
    await db.query('alter table tickets alter column amount type numeric(12, 3)');
    const result = await checkLoop({ manifest, loop, dbUrl: db.url.connectionString() });
    const first = result.scenarios[0]!;
    expect(result).toMatchObject({ verdict: 'block', exitCode: 11 });
    expect(first.verdict).toBe('block');
    expect(first.gateReasons).toContain('block: golden_diffs > 0 (golden_diffs = 2)');
    expect(first.diffs).toEqual([
      {
        where: 'probe acme-tickets',
        path: 'probes.acme-tickets.rows[0][5]',
        golden: '1234.50',
        actual: '1234.500',
      },
      {
        where: 'probe acme-tickets',
        path: 'probes.acme-tickets.rows[2][5]',
        golden: '0.00',
        actual: '0.000',
      },
    ]);
  });

  dbTest(
    'a scenario whose capsule changed fails with a clear message; the others still run',
    async ({ db }) => {
      const { manifest, loop } = await shippedLoopOn(db);
      const scenarios = await readFile(join(loop, 'scenarios.yaml'), 'utf8');
      const copy = join(loop, 'scenarios', 'copy.json');
      await writeFile(copy, `${await readFile(join(loop, 'scenarios', 'teamdesk-acme-ada.json'), 'utf8')}\n`);
      await writeFile(
        join(loop, 'scenarios.yaml'),
        scenarios.replace('capsule: scenarios/teamdesk-acme-ada.json', 'capsule: scenarios/copy.json'),
      );
      const result = await checkLoop({
        manifest,
        loop,
        dbUrl: db.url.connectionString(),
        junitOut: join(loop, 'c.xml'),
      });
      const [changed, other] = result.scenarios;
      expect(changed!.verdict).toBe('block');
      expect(changed!.error?.code).toBe('scenario_capsule_changed');
      expect(changed!.error?.message).toMatch(
        /^scenario cross-user-comment-thread: capsule .*scenarios\/copy\.json has sha256 [0-9a-f]{64}, but scenarios\.yaml pins [0-9a-f]{64}$/,
      );
      expect(other!.verdict).toBe('warn');
      expect(result.exitCode).toBe(11);
      expect(await readFile(join(loop, 'c.xml'), 'utf8')).toMatch(
        /<failure message="block: scenario cross-user-comment-thread: capsule/,
      );
    },
  );
});

describe('golden comparison of an API answer', () => {
  dbTest(
    'a changed field fails with its path, old and new value; a change in an ignored field passes',
    async ({ db }) => {
      const { manifest, loop } = await shippedLoopOn(db);
      let answer: Record<string, unknown> = {
        ticket: { id: 1, status: 'open', updatedAt: '2026-12-01T10:00:00Z' },
        requestId: 'r-1',
      };
      const api = await startApi(() => answer);
      try {
        // The loop holds this scenario only: each check below replays it, not the shipped ones too (the
        // first test of this file checks those).
        await writeFile(
          join(loop, 'scenarios.yaml'),
          [
            'scenarios:',
            '  - id: ticket-api',
            '    capsule: scenarios/teamdesk-acme-ada.json',
            '    headers: [content-type, x-request-id]',
            '    probes:',
            `      - { name: ticket-api, kind: http, url: "${api.url}/tickets/1" }`,
            '    ignore:',
            '      paths: [probes.ticket-api.body.requestId]',
            '      headers: [x-request-id]',
            "      patterns: ['\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z']",
            '',
          ].join('\n'),
        );
        const dbUrl = db.url.connectionString();
        const trace = join(loop, 'api-trace.json');
        const first = await runReplay({ manifest, loop, scenario: 'ticket-api', dbUrl, traceOut: trace });
        expect(first.trace.golden).toBeUndefined();
        const saved = await saveGolden({ trace, loop, scenario: 'ticket-api' });
        expect(validateAgainstSchema('golden', saved.golden)).toEqual([]);
        expect(saved.golden.evidence.probes['ticket-api']).toMatchObject({
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: answer,
        });
        const only = async () => {
          const result = await checkLoop({ manifest, loop, dbUrl });
          return result.scenarios.find((scenario) => scenario.id === 'ticket-api')!;
        };
        // Volatile values only (request id, header, timestamp): still passes.
        answer = { ticket: { id: 1, status: 'open', updatedAt: '2026-12-02T11:11:11Z' }, requestId: 'r-2' };
        expect(await only()).toMatchObject({ verdict: 'continue', goldenDiffs: 0 });
        // The answer changes: the diff names the field, the old and the new value.
        answer = { ticket: { id: 1, status: 'closed', updatedAt: '2026-12-02T11:11:11Z' }, requestId: 'r-3' };
        const failed = await only();
        expect(failed).toMatchObject({ verdict: 'block', goldenDiffs: 1 });
        expect(failed.diffs).toEqual([
          {
            where: 'probe ticket-api',
            path: 'probes.ticket-api.body.ticket.status',
            golden: 'open',
            actual: 'closed',
          },
        ]);
        // run --scenario shows the same, and stores it in the trace.
        const run = await runReplay({ manifest, loop, scenario: 'ticket-api', dbUrl, traceOut: trace });
        expect(run.gate).toBe('block');
        expect(run.trace.golden).toMatchObject({
          count: 1,
          gateBeforeGolden: 'continue',
          scenario: 'ticket-api',
        });
        expect(validateAgainstSchema('trace', JSON.parse(await readFile(trace, 'utf8')))).toEqual([]);
      } finally {
        api.server.close();
      }
    },
    // Four replays of the teamdesk app (run, two checks, run): a loaded 2-core machine needs more than
    // the default limit.
    180_000,
  );
});
