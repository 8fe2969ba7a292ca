import * as Flags from '@oclif/core/flags';

import { BaseCommand } from '../cli/base-command.js';
import { identityFlag } from '../cli/flags.js';
import { appFlag, dbUrlFlag } from '../cli/flags.js';
import { renderDoctor } from '../cli/render/doctor.js';
import { ExitCode } from '../exit-codes.js';
import { type DoctorResult, runDoctor } from '../services/doctor.js';

export default class Doctor extends BaseCommand<typeof Doctor> {
  static override summary = 'Check a manifest, its replay database and a capsule before a replay costs time.';
  static override description =
    "One line per check, [pass|warn|fail] name: detail, then a summary. Validates the manifest; with a replay database (--db-url, the manifest's replay env var, or localDatabaseUrl) checks that declared tables and every referenced column exist, that the manifest SQL plans (EXPLAIN, nothing runs), that tableOrder loads parents before children, and refuses production-looking URLs; with --capsule checks its app, columns and that every foreign-key value it holds resolves. Exits 7 on any failure (or warning, with --strict).";

  static override examples = [
    '<%= config.bin %> doctor --app config/apps/teamdesk.yaml --db-url "$TEAMDESK_REPLAY_DATABASE_URL"',
    '<%= config.bin %> doctor --app config/apps/teamdesk.yaml --capsule capsules/teamdesk/acme-ada.json --strict',
  ];

  static override flags = {
    identity: identityFlag,
    app: appFlag(),
    'db-url': dbUrlFlag(),
    capsule: Flags.string({ summary: 'Also check this capsule (.json or .json.gz).', helpValue: 'FILE' }),
    strict: Flags.boolean({ summary: 'Fail on warnings too.' }),
  };

  public async run(): Promise<DoctorResult> {
    const result = await runDoctor({
      app: this.flags.app,
      dbUrl: this.flags['db-url'],
      capsule: this.flags.capsule,
      strict: this.flags.strict,
    });
    this.log(renderDoctor(result, this.flags.strict));
    if (!result.ok) this.setExitCode(ExitCode.doctorFailed);
    return result;
  }
}
