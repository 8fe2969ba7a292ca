import { resolve } from 'node:path';

import * as Args from '@oclif/core/args';

import { BaseCommand } from '../cli/base-command.js';
import { renderAudit } from '../cli/render/audit.js';
import { type AuditEntry, readAudit } from '../governance/audit-log.js';

export default class Audit extends BaseCommand<typeof Audit> {
  static override summary = "Print a capsule folder's audit log (.replay-env-audit.jsonl).";
  static override examples = ['<%= config.bin %> audit capsules/teamdesk --json'];

  static override args = { dir: Args.string({ default: '.', description: 'Folder holding capsules.' }) };

  public async run(): Promise<{ dir: string; entries: Array<AuditEntry | { invalid: string }> }> {
    const dir = resolve(this.args.dir);
    const entries = await readAudit(dir);
    this.log(renderAudit(entries));
    return { dir, entries };
  }
}
