import * as Flags from '@oclif/core/flags';

import { BaseCommand } from '../cli/base-command.js';
import { renderInit } from '../cli/render/init.js';
import { initManifest, type InitResult } from '../services/init.js';

export default class Init extends BaseCommand<typeof Init> {
  static override summary = 'Draft a working, commented manifest from the database catalog.';
  static override description =
    'Reads foreign keys, primary keys and column names (in a READ ONLY transaction) and writes a YAML manifest: tables that reach the subject table by a foreign-key path (shortest path), tables matched by column name, their parents via `closure: parents`, a topological tableOrder, graph edges for tables that reference the subject table twice, and redaction suggestions. Never overwrites a file.';

  static override examples = [
    '<%= config.bin %> init --db-url "$APP_PROD_DATABASE_URL" --subject-table customers --out config/apps/shop.yaml',
    '<%= config.bin %> init --db-url "$APP_PROD_DATABASE_URL" --subject-table customers --sample-subject customer_id=42 --json',
  ];

  static override flags = {
    'db-url': Flags.string({
      required: true,
      summary: 'Database to read the catalog from.',
      helpValue: 'URL',
    }),
    'subject-table': Flags.string({
      required: true,
      summary: 'The table whose rows are the subjects.',
      helpValue: 'TABLE',
    }),
    'subject-key': Flags.string({
      multiple: true,
      summary: 'Subject column(s) of the subject table (default: its primary key).',
      helpValue: 'COLUMN',
    }),
    schema: Flags.string({ summary: 'Schema to read (default public).', helpValue: 'SCHEMA' }),
    'app-id': Flags.string({ summary: 'appId to write (default: the database name).', helpValue: 'ID' }),
    out: Flags.string({
      summary: 'Write the manifest here (never overwritten); default: print it.',
      helpValue: 'FILE',
    }),
    reference: Flags.boolean({
      summary:
        'Also draft reference tables that reference an exported table (a film’s actors) and write closure: parents-and-reference.',
    }),
    'sample-subject': Flags.string({
      multiple: true,
      summary: "Count each table's rows for this subject (key=value, repeat per key) into the comments.",
      helpValue: 'KEY=VALUE',
    }),
  };

  public async run(): Promise<InitResult> {
    const result = await initManifest({
      dbUrl: this.flags['db-url'],
      subjectTable: this.flags['subject-table'],
      ...(this.flags['subject-key'] ? { subjectKeys: this.flags['subject-key'] } : {}),
      ...(this.flags.schema ? { schema: this.flags.schema } : {}),
      ...(this.flags['app-id'] ? { appId: this.flags['app-id'] } : {}),
      ...(this.flags.out ? { out: this.flags.out } : {}),
      ...(this.flags['sample-subject'] ? { sampleSubject: this.flags['sample-subject'] } : {}),
      ...(this.flags.reference ? { reference: true } : {}),
    });
    this.log(renderInit(result));
    return result;
  }
}
