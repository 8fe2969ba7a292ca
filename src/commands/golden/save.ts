import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';

import { BaseCommand } from '../../cli/base-command.js';
import { renderGoldenSave } from '../../cli/render/golden.js';
import { type GoldenSaveResult, saveGolden } from '../../services/golden.js';

export default class GoldenSave extends BaseCommand<typeof GoldenSave> {
  static override summary = "Save a run trace's normalised evidence as a scenario's golden trace.";
  static override description =
    "Writes DIR/golden/ID.json (or the scenario's `golden`) as canonical JSON and records it in loop-state.yaml golden_traces. " +
    'Later `run --scenario ID` and `check` compare with it.';
  static override examples = [
    '<%= config.bin %> golden save capsules/teamdesk/ada-trace.json --loop loops/user-history-replay --scenario cross-user-comment-thread',
  ];

  static override args = {
    trace: Args.string({ required: true, description: 'Run trace (run --trace-out).' }),
  };

  static override flags = {
    loop: Flags.string({ required: true, summary: 'Loop folder.', helpValue: 'DIR' }),
    scenario: Flags.string({ required: true, summary: 'Scenario id.', helpValue: 'ID' }),
  };

  public async run(): Promise<GoldenSaveResult> {
    const result = await saveGolden({
      trace: this.args.trace,
      loop: this.flags.loop,
      scenario: this.flags.scenario,
    });
    this.log(renderGoldenSave(result));
    return result;
  }
}
