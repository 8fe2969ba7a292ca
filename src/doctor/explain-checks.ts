import type pg from 'pg';

import { buildGraphQuery, buildSessionSettings, buildTableQuery } from '../graph/export-sql.js';
import type { ParsedManifest } from '../manifest/index.js';
import { toDatabaseError } from '../postgres/errors.js';
import { extendedQuery, isMultipleCommands, multipleStatementsError } from '../postgres/one-statement.js';
import { type DoctorCheck, fail, pass } from './check.js';
import { buildDeletePredicateExplain, stubGraph } from './explain-sql.js';

/** One statement to plan, and the manifest entry a failure is reported against. */
interface Planned {
  label: string;
  text: string;
  values?: unknown[];
}

/**
 * Plans (EXPLAIN, never executes) every statement the manifest's SQL becomes: each graph edge through
 * the export's graph query, each table's export SELECT, and each deletePredicate as the delete
 * materialize runs. `params`/`graph_keys` hold one stub row, so a typo in a `where` is caught here, not
 * mid-export. Runs in a READ ONLY transaction that is rolled back; each statement in a savepoint so one
 * failure does not hide the next. Labels in `skip` (snippets already reported, e.g. an unknown column)
 * are not planned again.
 */
export async function explainChecks(
  client: pg.Client,
  manifest: ParsedManifest,
  options: { skip: ReadonlySet<string>; missingTables: ReadonlySet<string> },
): Promise<DoctorCheck[]> {
  const stub = stubGraph(manifest);
  const planned: Planned[] = [];
  manifest.postgres.graphEdges.forEach((edge, index) => {
    const label = `graphEdges[${index}]`;
    if (options.skip.has(label)) return;
    // One edge at a time through the export's own builder: the failure names the edge, and the
    // statement is exactly what export runs (columns cast to text, unioned with the subject).
    const single = { ...manifest, postgres: { ...manifest.postgres, graphEdges: [edge] } };
    const graph = buildGraphQuery(single, stub.subject, 180);
    // Subject keys as NULL parameters: a custom plan folds a bound text stub into casts such as
    // `seed.customer_id::int` and fails; NULL plans under any cast (issue #14 item 6).
    const values = graph.values.map((value, at) => (at < manifest.subjectKeys.length ? null : value));
    planned.push({ label, text: `explain ${graph.text}`, values });
  });
  for (const table of manifest.postgres.tables) {
    if (options.missingTables.has(table.name)) continue;
    const fields = ['from', 'where', 'orderBy', 'rowSql'];
    if (!fields.some((field) => options.skip.has(`tables[${table.name}].${field}`))) {
      planned.push({
        label: `tables[${table.name}]`,
        text: `explain ${buildTableQuery(manifest, table).text}`,
      });
    }
    const predicate = `tables[${table.name}].deletePredicate`;
    if (table.deletePredicate && !options.skip.has(predicate)) {
      planned.push({ label: predicate, text: buildDeletePredicateExplain(manifest, table).text });
    }
  }

  const checks: DoctorCheck[] = [];
  await client.query('begin transaction read only');
  try {
    // A cap, not a setting: a stricter statement_timeout the user gave (URL options, role) still holds.
    await client.query(
      `select set_config('statement_timeout', '30s', true) from pg_settings
        where name = 'statement_timeout' and (setting::bigint = 0 or setting::bigint > 30000)`,
    );
    const settings = buildSessionSettings(stub.params, stub.graphKeys);
    await client.query(settings.text, settings.values);
    for (const statement of planned) {
      await client.query('savepoint doctor_explain');
      try {
        // Extended protocol: EXPLAIN of a snippet that stacks `; commit; …` is refused, never run.
        await client.query(extendedQuery(statement.text, statement.values));
        await client.query('release savepoint doctor_explain');
      } catch (error) {
        await client.query('rollback to savepoint doctor_explain');
        const message = isMultipleCommands(error)
          ? multipleStatementsError('does not plan').message
          : toDatabaseError(error, { sql: statement.text, action: 'does not plan' }).message;
        checks.push(fail(`sql.${statement.label}`, statement.label, message));
      }
    }
  } finally {
    await client.query('rollback').catch(() => {});
  }
  if (checks.length === 0) {
    checks.push(
      pass('sql', 'manifest SQL', `${planned.length} statement(s) plan (EXPLAIN with stub graph keys)`),
    );
  }
  return checks;
}
