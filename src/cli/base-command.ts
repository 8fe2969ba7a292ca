import type { Interfaces } from '@oclif/core';
import { Command } from '@oclif/core/command';
import * as Errors from '@oclif/core/errors';
import * as Flags from '@oclif/core/flags';

import { setCapsuleAccess } from '../capsule/capsule-access.js';
import { isReplayEnvError, ManifestError, oneLine, ReplayEnvError, UsageError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { createLogger, logger, type LogLevel, logLevels } from '../log.js';
import { setForcedExitNotice } from '../run/interrupt.js';
import { scrubSecrets } from '../secrets.js';
import { setWarningSink } from '../warnings.js';

export type FlagsOf<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof BaseCommand)['baseFlags'] & T['flags']
>;
export type ArgsOf<T extends typeof Command> = Interfaces.InferredArgs<T['args']>;

/**
 * Every replay-env command extends this. It owns the cross-cutting contract:
 * `--json` prints exactly one JSON document on stdout; logs go to stderr; a user error is one
 * `error: …` line (plus `hint: …`) with a stable exit code; secrets are scrubbed from all of it.
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    'log-level': Flags.option({
      options: logLevels,
      default: 'warn' as LogLevel,
      helpGroup: 'GLOBAL',
      summary: 'Log level for the JSON log lines written to stderr.',
    })(),
  };

  protected flags!: FlagsOf<T>;
  protected args!: ArgsOf<T>;

  public override async init(): Promise<void> {
    await super.init();
    const { args, flags } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    });
    this.flags = flags as FlagsOf<T>;
    this.args = args as ArgsOf<T>;
    createLogger(this.flags['log-level'] as LogLevel);
    // Commands that read capsules declare identityFlag (and allowExpiredFlag when they load one).
    const access = this.flags as { identity?: string; 'allow-expired'?: boolean };
    setCapsuleAccess({
      identityFile: access.identity,
      refuseExpired: 'allow-expired' in (this.ctor.flags ?? {}) && !access['allow-expired'],
    });
    setWarningSink((line) => process.stderr.write(`warning: ${scrubSecrets(oneLine(line))}\n`));
    setForcedExitNotice((line) => process.stderr.write(`error: ${line}\n`));
  }

  /**
   * Human output: control characters from data (capsule subjects, recorded SQL, error text) are shown
   * escaped (`\x1b`), so an ANSI/OSC sequence in a capsule cannot drive the terminal.
   */
  public override log(message = '', ...args: unknown[]): void {
    super.log(escapeControls(message), ...args);
  }

  /** Sets the process exit status without throwing, for results that carry a verdict (gate, doctor). */
  protected setExitCode(code: number): void {
    process.exitCode = code;
  }

  public override async catch(error: Error & { exitCode?: number }): Promise<void> {
    if (error instanceof Errors.ExitError) throw error;
    const userError = toUserError(error);
    const lines =
      userError instanceof ManifestError && userError.problems.length > 1
        ? userError.problems
        : [userError.message];
    if (this.jsonEnabled()) {
      const payload = {
        error: {
          code: userError.code,
          message: userError.message,
          ...(userError.hint ? { hint: userError.hint } : {}),
          ...(userError instanceof ManifestError ? { problems: userError.problems } : {}),
        },
      };
      process.stdout.write(`${scrubSecrets(JSON.stringify(payload, null, 2))}\n`);
    } else {
      for (const line of lines)
        process.stderr.write(`error: ${escapeControls(scrubSecrets(oneLine(line)))}\n`);
      if (userError.hint)
        process.stderr.write(`hint: ${escapeControls(scrubSecrets(oneLine(userError.hint)))}\n`);
    }
    if (!isReplayEnvError(error) || logger().isLevelEnabled('debug')) {
      logger().debug({ stack: scrubSecrets(error.stack ?? String(error)) }, 'error stack');
    }
    // oclif reads the exit code from different places with and without --json; ExitError is honoured by both.
    throw new Errors.ExitError(userError.exitCode);
  }
}

/** Escapes C0/C1 control characters (except newline and tab) as \xNN / \uNNNN. */
export function escapeControls(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (char) => {
    const code = char.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : char;
  });
}

/** Maps any thrown value to the error a user sees. Parser errors are usage errors; the rest are bugs. */
function toUserError(error: Error & { oclif?: { exit?: number } }): ReplayEnvError {
  if (isReplayEnvError(error)) return error;
  if (error instanceof Errors.CLIError || error.oclif) {
    // oclif wraps parser errors in boilerplate lines; keep only what names the problem.
    const lines = (error.message ?? '')
      .split('\n')
      .map((line) => line.trim())
      .filter(
        (line) =>
          line &&
          !/^The following errors? occurred:?$/.test(line) &&
          !/^See more help with --help$/.test(line),
      );
    return new UsageError(lines.join('; ') || 'invalid arguments', 'see --help');
  }
  return new ReplayEnvError('internal', `internal error: ${oneLine(error.message ?? String(error))}`, {
    exitCode: ExitCode.internal,
    hint: 'rerun with --log-level debug for the stack trace, and please report it',
  });
}
