import * as Flags from '@oclif/core/flags';

import { BaseCommand } from '../../cli/base-command.js';
import { renderScenarioAdd } from '../../cli/render/golden.js';
import { addScenario, type ScenarioAddResult } from '../../services/scenario.js';

export default class ScenarioAdd extends BaseCommand<typeof ScenarioAdd> {
  static override summary =
    "Append an executable scenario to a loop's scenarios.yaml (capsule sha256 pinned).";
  static override description =
    "Keeps the file's comments. With --from-trace, also saves the trace as the scenario's golden. " +
    'Add one for every escaped bug you fix.';
  static override examples = [
    '<%= config.bin %> scenario add --loop loops/user-history-replay --id invoice-rounding --capsule capsules/teamdesk/ada.json --from-trace capsules/teamdesk/ada-trace.json --summary "Invoice total rounding with a 0 amount ticket"',
  ];

  static override flags = {
    loop: Flags.string({ required: true, summary: 'Loop folder.', helpValue: 'DIR' }),
    id: Flags.string({ required: true, summary: 'Scenario id (letters, digits, . _ -).', helpValue: 'ID' }),
    capsule: Flags.string({ required: true, summary: 'Capsule file the scenario loads.', helpValue: 'FILE' }),
    session: Flags.string({
      multiple: true,
      summary: 'Recorded session to replay (repeatable).',
      helpValue: 'FILE',
    }),
    'from-trace': Flags.string({
      summary: "Save this run trace as the scenario's golden.",
      helpValue: 'TRACE',
    }),
    summary: Flags.string({
      summary: 'One line: the history shape or bug this scenario reproduces.',
      helpValue: 'TEXT',
    }),
    'use-local-subject': Flags.boolean({ summary: "Load the capsule as the manifest's localSubject." }),
  };

  public async run(): Promise<ScenarioAddResult> {
    const { flags } = this;
    const result = await addScenario({
      loop: flags.loop,
      id: flags.id,
      capsule: flags.capsule,
      sessions: flags.session,
      summary: flags.summary,
      useLocalSubject: flags['use-local-subject'],
      fromTrace: flags['from-trace'],
    });
    this.log(renderScenarioAdd(result));
    return result;
  }
}
