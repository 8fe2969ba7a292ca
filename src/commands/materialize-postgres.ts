import * as Flags from '@oclif/core/flags';

import { BaseCommand } from '../cli/base-command.js';
import { allowExpiredFlag, identityFlag } from '../cli/flags.js';
import {
  allowUnsafeTargetFlag,
  appFlag,
  dbUrlFlag,
  profileFlag,
  psqlCommandFlag,
  rewriteSubjectFlag,
} from '../cli/flags.js';
import { createProgressReporter, progressEnabled } from '../cli/progress.js';
import { renderExplain, renderMaterialize, renderPlan } from '../cli/render/materialize-postgres.js';
import { auditedMaterialize, withAudit } from '../governance/audit-hook.js';
import { loadManifest, parseSubjectRewrite } from '../manifest/index.js';
import { resolveDatabaseUrl } from '../postgres/target.js';
import {
  explainMaterialize,
  type ExplainResult,
  materialize,
  type MaterializePlan,
  type MaterializeResult,
  planMaterialize,
} from '../services/materialize.js';

export default class MaterializePostgres extends BaseCommand<typeof MaterializePostgres> {
  static override summary = 'Load a capsule into the replay database, in one transaction.';
  static override description =
    "Deletes the capsule graph's rows (each table's deletePredicate, reverse load order), loads every row " +
    'type-faithfully, verifies the replay database holds them all, and commits; any failure rolls back.';
  static override examples = [
    '<%= config.bin %> materialize-postgres --app config/apps/teamdesk.yaml --capsule capsules/teamdesk/acme-ada.json',
    '<%= config.bin %> materialize-postgres --app config/apps/teamdesk.yaml --capsule c.json.gz --use-local-subject',
  ];

  static override flags = {
    identity: identityFlag,
    'allow-expired': allowExpiredFlag,
    app: appFlag(),
    capsule: Flags.string({
      required: true,
      summary: 'Capsule file (.json or .json.gz).',
      helpValue: 'FILE',
    }),
    'db-url': dbUrlFlag(),
    'rewrite-subject': rewriteSubjectFlag(),
    'use-local-subject': Flags.boolean({ summary: "Rewrite the subject to the manifest's localSubject." }),
    'load-strategy': Flags.option({
      options: ['copy', 'jsonb'] as const,
      default: 'copy' as const,
      summary:
        'copy: COPY into staging tables (fastest); jsonb: chunked jsonb inserts, as the original tool.',
    })(),
    'keep-triggers': Flags.boolean({
      summary: "Leave the replay tables' user triggers on during the load (they may change loaded values).",
    }),
    'keep-indexes': Flags.boolean({
      summary:
        'Keep secondary indexes in place while copying into empty tables (default: drop, copy, build again).',
    }),
    'keep-foreign-keys': Flags.boolean({
      summary:
        'Check foreign keys row by row while copying into empty tables (default: drop, copy, add again at the end).',
    }),
    'chunk-size': Flags.integer({ default: 1000, min: 1, summary: 'Rows per jsonb chunk / per COPY write.' }),
    'dry-run-sql': Flags.boolean({ summary: 'Print the SQL without connecting.' }),
    explain: Flags.boolean({
      summary: 'Print plans (EXPLAIN ANALYZE) of deletes and upserts, then roll back.',
    }),
    profile: profileFlag,
    'psql-command': psqlCommandFlag,
    'allow-unsafe-target': allowUnsafeTargetFlag,
  };

  public async run(): Promise<MaterializeResult | MaterializePlan | ExplainResult> {
    const { flags } = this;
    const manifest = await loadManifest(flags.app);
    const base = {
      manifest,
      capsulePath: flags.capsule,
      rewriteSubject: parseSubjectRewrite(flags['rewrite-subject'] ?? [], manifest.subjectKeys),
      useLocalSubject: flags['use-local-subject'],
      loadStrategy: flags['load-strategy'],
      chunkSize: flags['chunk-size'],
      keepTriggers: flags['keep-triggers'],
      keepIndexes: flags['keep-indexes'],
      keepForeignKeys: flags['keep-foreign-keys'],
      allowUnsafeTarget: flags['allow-unsafe-target'],
      handleSignals: true,
    };
    if (flags['dry-run-sql']) {
      const plan = await planMaterialize(base);
      this.log(renderPlan(plan));
      return plan;
    }
    const databaseUrl = resolveDatabaseUrl({
      flag: flags['db-url'],
      envVar: manifest.postgres.replayDatabaseUrlEnv,
      fallback: manifest.localDatabaseUrl,
      role: 'replay database',
    });
    if (flags.explain) {
      const explained = await explainMaterialize({ ...base, databaseUrl });
      this.log(renderExplain(explained));
      return explained;
    }
    const progress = createProgressReporter({ enabled: progressEnabled(this.jsonEnabled()) });
    const audit = { command: 'materialize-postgres', app: manifest.appId, target: databaseUrl.identity() };
    const result = await withAudit(
      flags.capsule,
      audit,
      () =>
        materialize({
          ...base,
          databaseUrl,
          onProgress: (event) => {
            if (event.phase === 'stage' && event.table)
              progress.update(`stage ${event.table}`, event.rows ?? 0);
          },
        }).finally(() => progress.stop()),
      auditedMaterialize,
    );
    this.log(renderMaterialize(result, flags.profile));
    return result;
  }
}
