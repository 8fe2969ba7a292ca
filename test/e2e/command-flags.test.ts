import { Config } from '@oclif/core';
import { expect, it } from 'vitest';

import { repoRoot } from '../setup/cli.js';

/**
 * A checked-in snapshot of every command and its flags. Users, scripts and agents type these names (many
 * come from the original tool): a rename or removal must be a deliberate change of this file.
 */
it('the commands and their flags match the checked-in snapshot', async () => {
  const config = await Config.load(repoRoot);
  const commands = Object.fromEntries(
    [...config.commands]
      .filter((command) => command.pluginName === 'replay-env')
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((command) => [
        command.id,
        {
          args: Object.keys(command.args ?? {}),
          flags: Object.fromEntries(
            Object.entries(command.flags)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([name, flag]) => [
                name,
                [
                  flag.type,
                  flag.required ? 'required' : 'optional',
                  flag.type === 'option' && 'multiple' in flag && flag.multiple ? 'multiple' : 'single',
                  flag.hidden ? 'hidden' : 'shown',
                ].join(' '),
              ]),
          ),
        },
      ]),
  );
  await expect(`${JSON.stringify(commands, null, 2)}\n`).toMatchFileSnapshot(
    '../fixtures/command-flags.json',
  );
});
