import * as Flags from '@oclif/core/flags';

import { BaseCommand } from '../cli/base-command.js';
import { preferBatchGarbageCollection } from '../cli/batch-gc.js';
import { appFlag, dbUrlFlag, profileFlag, psqlCommandFlag, subjectFlag } from '../cli/flags.js';
import { createProgressReporter, progressEnabled } from '../cli/progress.js';
import {
  renderExport,
  renderExportExplain,
  renderExportPlan,
  renderPhases,
} from '../cli/render/export-postgres.js';
import { UsageError } from '../errors.js';
import { auditedExport, withAudit } from '../governance/audit-hook.js';
import { recipientFingerprint, subjectSha256 } from '../governance/audit-log.js';
import { resolveCapsulePolicy } from '../governance/export-policy.js';
import { loadManifest, parseSubject } from '../manifest/index.js';
import { resolveDatabaseUrl } from '../postgres/target.js';
import {
  explainExport,
  type ExplainResult,
  exportCapsule,
  type ExportPlan,
  type ExportResult,
  planExport,
  type RedactionMode,
} from '../services/export.js';

export default class ExportPostgres extends BaseCommand<typeof ExportPostgres> {
  static override summary = "Export a subject's scoped, redacted Postgres history into a capsule.";
  static override description =
    'Runs in one REPEATABLE READ, READ ONLY transaction and streams every table straight into the capsule file (written atomically; .gz compresses).';
  static override examples = [
    '<%= config.bin %> export-postgres --app config/apps/teamdesk.yaml --subject tenant_id=acme --subject user_id=ada --out capsules/teamdesk/ada.json',
    '<%= config.bin %> export-postgres --app config/apps/teamdesk.yaml --subject tenant_id=acme --subject user_id=ada --dry-run-sql',
  ];

  static override flags = {
    app: appFlag(),
    subject: subjectFlag({ required: true }),
    'db-url': dbUrlFlag({
      summary: 'Source database URL (default: the env var named by postgres.prodDatabaseUrlEnv).',
    }),
    out: Flags.string({
      char: 'o',
      summary: 'Capsule file to write (.json, or .json.gz to compress).',
      helpValue: 'FILE',
    }),
    'since-days': Flags.integer({
      // 0 would export no history at all; the original tool silently widened it to 1 day. We refuse it.
      min: 1,
      max: 36_500,
      default: 180,
      summary: 'History window: params.since_at = now - N days (1 to 36500).',
    }),
    redaction: Flags.option({
      options: ['safe', 'raw'] as const,
      default: 'safe' as const,
      summary: 'safe applies the manifest redactionRules; raw exports rows as they are.',
    })(),
    'dry-run-sql': Flags.boolean({ summary: 'Print the SQL without connecting.', exclusive: ['explain'] }),
    explain: Flags.boolean({
      summary: 'Print EXPLAIN plans (inside the read-only transaction); export nothing.',
    }),
    'encrypt-to': Flags.string({
      multiple: true,
      summary:
        'Encrypt the capsule with age to this recipient (age1…); repeatable; replaces the manifest capsule.encryptTo. --out must end with .age.',
      helpValue: 'RECIPIENT',
    }),
    'expires-in': Flags.string({
      summary:
        'Retention: write expiresAt = now + this (30m, 12h, 7d, 2w); replaces the manifest capsule.retentionDays. Loading refuses it afterwards.',
      helpValue: 'DURATION',
    }),
    profile: profileFlag,
    'psql-command': psqlCommandFlag,
  };

  public async run(): Promise<ExportResult | ExportPlan | ExplainResult> {
    const { flags } = this;
    const manifest = await loadManifest(flags.app);
    const subject = parseSubject(flags.subject, manifest.subjectKeys);
    const sinceDays = flags['since-days'];
    if (flags['dry-run-sql']) {
      const plan = planExport({ manifest, subject, sinceDays, redaction: flags.redaction as RedactionMode });
      this.log(renderExportPlan(plan));
      return plan;
    }
    const databaseUrl = resolveDatabaseUrl({
      flag: flags['db-url'],
      envVar: manifest.postgres.prodDatabaseUrlEnv,
      role: 'export source database',
    });
    if (flags.explain) {
      const explained = await explainExport({
        manifest,
        subject,
        databaseUrl,
        sinceDays,
        redaction: flags.redaction as RedactionMode,
      });
      this.log(renderExportExplain(explained));
      return explained;
    }
    if (!flags.out)
      throw new UsageError('--out is required', 'pass --out FILE (or --dry-run-sql / --explain)');
    const out = flags.out;
    const policy = resolveCapsulePolicy({
      out,
      encryptTo: flags['encrypt-to'] ?? [],
      expiresIn: flags['expires-in'],
      manifest: manifest.capsule,
    });
    const progress = createProgressReporter({ enabled: progressEnabled(this.jsonEnabled()) });
    preferBatchGarbageCollection(); // closure too: its key sets are off V8's heap (batch-gc.ts)
    const audit = {
      command: 'export-postgres',
      app: manifest.appId,
      subjectKeys: Object.keys(subject),
      subjectSha256: subjectSha256(subject),
      capsule: out,
      source: databaseUrl.identity(),
      redaction: flags.redaction,
      recipients: policy.encryptTo.map(recipientFingerprint),
    };
    const result = await withAudit(
      out,
      audit,
      () =>
        exportCapsule({
          manifest,
          subject,
          databaseUrl,
          out,
          sinceDays,
          redaction: flags.redaction as RedactionMode,
          profile: flags.profile,
          encryptTo: policy.encryptTo,
          ...(policy.expiresAt ? { expiresAt: policy.expiresAt } : {}),
          onProgress: ({ table, rows, done }) =>
            done ? progress.done(table, rows) : progress.update(table, rows),
        }).finally(() => progress.stop()),
      auditedExport,
    );
    this.log(renderExport(result));
    if (result.phases) this.logToStderr(renderPhases(result.phases));
    return result;
  }
}
