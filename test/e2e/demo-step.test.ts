import { describe, expect, it } from 'vitest';

import { expectStepExit, runCliStep } from '../../src/demo/cli-step.js';
import { SubprocessError } from '../../src/errors.js';
import { ExitCode } from '../../src/exit-codes.js';
import { repoRoot } from '../setup/cli.js';

describe('exit code 5: a subprocess failing outside the gate (a demo step)', () => {
  it('a real replay-env child exiting unexpectedly is a SubprocessError with exit 5', async () => {
    const result = await runCliStep(['nosuchcmd'], { cwd: repoRoot, env: { PATH: process.env.PATH ?? '' } });
    expect(result.exitCode).toBe(2);
    let thrown: unknown;
    try {
      expectStepExit('a step', result, [0]);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SubprocessError);
    expect(thrown).toMatchObject({ exitCode: 5, message: 'demo step "a step" exited with 2' });
    expect(ExitCode.subprocess).toBe(5);
    expect(() => expectStepExit('a step', result, [0, 2])).not.toThrow();
  });
});
