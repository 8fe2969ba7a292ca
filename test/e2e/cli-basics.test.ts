import { describe, expect, it } from 'vitest';

import { parseJsonOutput, runCli } from '../setup/cli.js';

describe('replay-env CLI basics', () => {
  it('an unknown command is one error line, or one JSON error document under --json (exit 2)', async () => {
    const text = await runCli(['nosuchcmd']);
    expect(text.exitCode).toBe(2);
    expect(text.stderr).toContain('error: command nosuchcmd not found');
    const json = await runCli(['nosuchcmd', '--json']);
    expect(json.exitCode).toBe(2);
    expect(parseJsonOutput<{ error: { code: string; message: string } }>(json.stdout).error).toMatchObject({
      code: 'usage',
      message: 'command nosuchcmd not found',
    });
  });

  it('--help lists the registered commands', async () => {
    const result = await runCli(['--help']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('playbook');
  });

  it.each(['config/apps/teamdesk.yaml', 'config/apps/teamdesk.json'])(
    'playbook --json works on %s',
    async (app) => {
      const result = await runCli(['playbook', '--app', app, '--json']);
      expect(result.exitCode).toBe(0);
      const playbook = parseJsonOutput<{ app: string; steps: Array<{ id: string; command: string }> }>(
        result.stdout,
      );
      expect(playbook.app).toBe('teamdesk');
      expect(playbook.steps.map((step) => step.id)).toEqual([
        'init',
        'doctor',
        'export-dry-run',
        'export',
        'inspect',
        'doctor-capsule',
        'materialize',
        'run',
      ]);
      const materialize = playbook.steps.find((step) => step.id === 'materialize')!;
      expect(materialize.command).toContain(`--app ${app}`);
      expect(materialize.command).toContain('"$TEAMDESK_REPLAY_DATABASE_URL"');
      expect(materialize.command).toContain('--use-local-subject');
      expect(playbook.steps.find((step) => step.id === 'export')!.command).toContain(
        '--subject tenant_id=<tenant_id> --subject user_id=<user_id>',
      );
    },
  );

  it('playbook prints a readable sequence without --json', async () => {
    const result = await runCli(['playbook', '--app', 'config/apps/teamdesk.yaml']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^Replay playbook for teamdesk/);
    expect(result.stdout).toContain('replay-env export-postgres --app config/apps/teamdesk.yaml');
  });

  it('a broken manifest fails with error lines, exit 2 and no stack trace', async () => {
    const result = await runCli(['playbook', '--app', 'test/fixtures/manifests/broken/wrong-adapter.json']);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([
      'error: test/fixtures/manifests/broken/wrong-adapter.json: /adapter: must be "postgres-subject-graph.v1"',
    ]);
  });

  it('under --json an error is one JSON document with a stable code', async () => {
    const result = await runCli([
      'playbook',
      '--app',
      'test/fixtures/manifests/broken/missing-fields.json',
      '--json',
    ]);
    expect(result.exitCode).toBe(2);
    const body = parseJsonOutput<{ error: { code: string; message: string; problems: string[] } }>(
      result.stdout,
    );
    expect(body.error.code).toBe('manifest_invalid');
    expect(body.error.problems).toHaveLength(3);
    expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'problems']);
  });

  it('a missing required flag is a usage error with exit 2', async () => {
    const result = await runCli(['playbook']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^error: Missing required flag app/);
    expect(result.stderr).toContain('hint: see --help');
  });
});
