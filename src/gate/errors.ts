import { ReplayEnvError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';

/** A gate policy or judges file of a replay loop that cannot be read or is invalid. */
export class GatePolicyError extends ReplayEnvError {
  readonly problems: string[];
  constructor(message: string, problems: string[] = [message], hint?: string) {
    super('gate_policy_invalid', message, { exitCode: ExitCode.usage, hint });
    this.problems = problems;
  }
}
