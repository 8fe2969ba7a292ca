import { lossyList } from '../../capsule/lossy-values.js';
import { subjectLabel } from '../../manifest/index.js';
import type { ExplainResult, ExportPlan, ExportResult } from '../../services/export.js';

export function renderExport(result: ExportResult): string {
  const reasons = Object.entries(result.graph.reasons)
    .map(([reason, count]) => `${reason} ${count}`)
    .join(', ');
  const rows = Object.entries(result.rowCounts)
    .map(([table, count]) => {
      const added = result.closureRows?.[table];
      const pieces = result.pieces?.[table];
      return `  ${table}: ${count}${added ? ` (${added} added by closure)` : ''}${pieces ? ` (read in ${pieces} pieces)` : ''}`;
    })
    .join('\n');
  return [
    `capsule: ${result.capsule}`,
    `app: ${result.app}  subject: ${subjectLabel(result.subject)}  redaction: ${result.redaction}  since: ${result.sinceAt} (${result.sinceDays} days)`,
    `graph: ${result.graph.size} subject(s) (${reasons})`,
    `rows: ${result.totalRows} in ${Object.keys(result.rowCounts).length} table(s)`,
    rows,
    `bytes: ${result.bytes}  sha256: ${result.sha256}  took: ${(result.durationMs / 1000).toFixed(2)} s`,
    ...(result.emptyWindowed.length > 0
      ? [
          `hint: no rows in ${result.emptyWindowed.join(', ')}, whose query reads since_at: the --since-days ${result.sinceDays} window may have excluded their history (try a larger --since-days)`,
        ]
      : []),
    ...(result.lossy
      ? [
          `warning: values the capsule cannot hold exactly (a JSON null in json/jsonb, written like SQL NULL; an array not indexed from 1, written from 1) in ${lossyList(result.lossy)}: materialize will load them changed and not say verified`,
        ]
      : []),
    ...(result.lossyUntested
      ? [
          `warning: ${result.lossyUntested.join(', ')}: not tested for values the capsule cannot hold exactly (a JSON null, an array not indexed from 1), as its from does not name the table by its alias (set tables[].alias)`,
        ]
      : []),
  ].join('\n');
}

export function renderPhases(phases: Record<string, number>): string {
  return ['profile (ms):', ...Object.entries(phases).map(([phase, ms]) => `  ${phase}: ${ms}`)].join('\n');
}

export function renderExportPlan(plan: ExportPlan): string {
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
    '',
    '-- with a second connection on the snapshot (more than one table, not encrypted), on both connections:',
    ...plan.twoConnections.map((statement) => `${statement};`),
    ...plan.tables.flatMap((table) => ['', `-- table ${table.name}`, `${table.sql};`]),
    '',
    '-- At run time a table with json/jsonb or array columns (their types read from the catalog, which this plan does',
    "-- not connect to) puts a mark before each row's text: coalesce(chr(4) || nullif(concat(case when <column> holds",
    "-- a JSON null or an array not indexed from 1 then '<index>,' end, …), ''), '') || (<rowSql>)… (docs/capsule-format.md).",
    ...(plan.closure
      ? [
          '',
          `-- closure: ${plan.closure}. Tables run children first, each query above with one key column per foreign key`,
          '-- into another manifest table; then per parent, chunks of referenced keys (built at run time from',
          "-- pg_constraint) go through set_config('replay.closure_keys', …) into a keyed query (docs/app-manifest.md).",
          ...(plan.closure === 'parents-and-reference'
            ? [
                '-- Reference tables then take the rows that reference an included parent, by the same keyed query.',
              ]
            : []),
        ]
      : []),
    '',
    'rollback;',
  ].join('\n');
}

export function renderExportExplain(result: ExplainResult): string {
  return [
    `-- graph query (${result.graph.size} subject(s) in the graph)`,
    result.graph.plan,
    ...result.tables.flatMap((table) => ['', `-- table ${table.name}`, table.plan]),
  ].join('\n');
}
