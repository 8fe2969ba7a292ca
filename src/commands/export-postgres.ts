import { Flags } from '@oclif/core';

import { BaseCommand } from '../cli/base-command.js';
import { appFlag, dbUrlFlag, profileFlag, psqlCommandFlag, subjectFlag } from '../cli/flags.js';
import { createProgressReporter, progressEnabled } from '../cli/progress.js';
import { UsageError } from '../errors.js';
import { loadManifest, parseSubject, subjectLabel } from '../manifest/index.js';
import { resolveDatabaseUrl } from '../postgres/resolve-url.js';
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
      min: 0,
      max: 36_500,
      default: 180,
      summary: 'History window: params.since_at = now - N days.',
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
      this.log(renderPlan(plan));
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
      this.log(renderExplain(explained));
      return explained;
    }
    if (!flags.out)
      throw new UsageError('--out is required', 'pass --out FILE (or --dry-run-sql / --explain)');
    const progress = createProgressReporter({ enabled: progressEnabled(this.jsonEnabled()) });
    const result = await exportCapsule({
      manifest,
      subject,
      databaseUrl,
      out: flags.out,
      sinceDays,
      redaction: flags.redaction as RedactionMode,
      profile: flags.profile,
      onProgress: ({ table, rows, done }) =>
        done ? progress.done(table, rows) : progress.update(table, rows),
    }).finally(() => progress.stop());
    this.log(renderResult(result));
    if (result.phases) this.logToStderr(renderPhases(result.phases));
    return result;
  }
}

function renderResult(result: ExportResult): string {
  const reasons = Object.entries(result.graph.reasons)
    .map(([reason, count]) => `${reason} ${count}`)
    .join(', ');
  const rows = Object.entries(result.rowCounts)
    .map(([table, count]) => `  ${table}: ${count}`)
    .join('\n');
  return [
    `capsule: ${result.capsule}`,
    `app: ${result.app}  subject: ${subjectLabel(result.subject)}  redaction: ${result.redaction}  since: ${result.sinceAt} (${result.sinceDays} days)`,
    `graph: ${result.graph.size} subject(s) (${reasons})`,
    `rows: ${result.totalRows} in ${Object.keys(result.rowCounts).length} table(s)`,
    rows,
    `bytes: ${result.bytes}  sha256: ${result.sha256}  took: ${(result.durationMs / 1000).toFixed(2)} s`,
  ].join('\n');
}

function renderPhases(phases: Record<string, number>): string {
  return ['profile (ms):', ...Object.entries(phases).map(([phase, ms]) => `  ${phase}: ${ms}`)].join('\n');
}

function renderPlan(plan: ExportPlan): string {
  const values = (list: unknown[]) =>
    list.map((value, index) => `--   $${index + 1} = ${JSON.stringify(value)}`).join('\n');
  return [
    `-- export-postgres ${plan.app}, subject ${subjectLabel(plan.subject)}: SQL only, nothing was run`,
    ...plan.begin.map((statement) => `${statement};`),
    '',
    '-- graph query; parameters:',
    values(plan.graph.values),
    `${plan.graph.sql};`,
    '',
    '-- hand params and graph_keys to the table queries; parameters (computed at run time):',
    values(plan.session.values),
    `${plan.session.sql};`,
    ...plan.tables.flatMap((table) => ['', `-- table ${table.name}`, `${table.sql};`]),
    '',
    'rollback;',
  ].join('\n');
}

function renderExplain(result: ExplainResult): string {
  return [
    `-- graph query (${result.graph.size} subject(s) in the graph)`,
    result.graph.plan,
    ...result.tables.flatMap((table) => ['', `-- table ${table.name}`, table.plan]),
  ].join('\n');
}
