import type { Hook } from '@oclif/core';

import { ExitCode } from '../exit-codes.js';

/**
 * An unknown command (`replay-env nosuchcmd`): one `error:` line and exit 2, or under `--json` the same
 * `{error: {code, message}}` document every command prints (oclif's default is text either way).
 */
const hook: Hook<'command_not_found'> = async function (options) {
  const message = `command ${options.id} not found`;
  const hint = 'replay-env --help lists the commands';
  if (options.argv?.includes('--json')) {
    process.stdout.write(`${JSON.stringify({ error: { code: 'usage', message, hint } }, null, 2)}\n`);
  } else {
    process.stderr.write(`error: ${message}\nhint: ${hint}\n`);
  }
  process.exit(ExitCode.usage);
};

export default hook;
