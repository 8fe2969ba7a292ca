import type pg from 'pg';

import { DatabaseError } from '../errors.js';
import type { ParsedTable } from '../manifest/index.js';
import { readTables } from '../postgres/catalog.js';
import { toError } from './load-errors.js';
import {
  checkAll,
  checkStagedCounts,
  emptyOutcome,
  type LoadOptions,
  type LoadOutcome,
  resyncSequences,
  statementRunner,
  verify,
  verifyLoadedValues,
} from './load-steps.js';
import { phaseTimer } from './load-timing.js';
import { RewriteTally } from './rewrite-tally.js';
import { deleteSql, type Sql, stageTable, targetEmptySql, upsertSql } from './sql.js';
import { stageCapsule, type StagedTable } from './stage.js';
import { suspendTriggers } from './triggers.js';
import { SentDigest } from './verify-values.js';

/** The staging path: every table through a jsonb staging table and jsonb_populate_record. */
export async function loadStaged(options: LoadOptions): Promise<LoadOutcome> {
  const { client } = options;
  const { phases, end: endPhase } = phaseTimer();
  const run = statementRunner(client, options.url, toError);
  const outcome = emptyOutcome(phases);
  await run({ text: 'begin', values: [] });
  try {
    await run({ text: 'set constraints all deferred', values: [] });
    const triggers = await suspendTriggers(
      options.prepared.tables.map((table) => table.name),
      run,
      options.keepTriggers ?? false,
    );
    outcome.triggers = { disabled: triggers.disabled, firing: triggers.firing };
    const byName = new Map(options.prepared.tables.map((table) => [table.name, table]));
    const tally = new RewriteTally(options.prepared.rewrite);
    const verifying = options.verifyValues !== false;
    const sent = new Map<string, SentDigest>();
    const infos = await readTables(
      client,
      options.prepared.tables.map((table) => table.name),
    );
    const staged = await stageCapsule(client, options.reader, {
      strategy: options.strategy,
      chunkSize: options.chunkSize,
      tally,
      declared: new Set(byName.keys()),
      run,
      toError: (error, sql) => toError(error, sql, options.url),
      onRows: (table, rows) => options.onProgress?.({ phase: 'stage', table, rows }),
      sentDigest: (table) => {
        const info = infos.get(table);
        if (!verifying || !info) return undefined;
        const digest = new SentDigest(info);
        sent.set(table, digest);
        return digest;
      },
    });
    tally.assertMoved();
    outcome.rewritten = tally.perTable;
    const summary = options.reader.summary();
    outcome.rowCounts = summary.rowCounts;
    outcome.integrity = summary.integrity.status;
    outcome.lossy = summary.integrity.lossy ?? {};
    checkStagedCounts(staged, summary.rowCounts);
    endPhase('stage');

    // Load order is the manifest's; the capsule's file order does not matter.
    const ordered = options.prepared.tables
      .map((table) => ({ table, stage: staged.find((entry) => entry.table === table.name) }))
      .filter((item): item is { table: ParsedTable; stage: StagedTable } => item.stage !== undefined);
    const missing = ordered.filter((item) => !infos.has(item.table.name)).map((item) => item.table.name);
    if (missing.length > 0) {
      throw new DatabaseError(
        `replay database ${options.url.identity()} has no table ${missing.join(', ')}`,
        {
          code: 'schema_mismatch',
          hint: "create the app's schema in the replay database first (its migrations)",
        },
      );
    }
    const shapes = await checkAll(ordered, infos, run);
    endPhase('check');

    const maybeExplain = async (sql: Sql, label: string): Promise<pg.QueryResult> => {
      if (!options.explain) return run(sql);
      const result = await run({ ...sql, text: `explain (analyze, buffers, costs) ${sql.text}` });
      outcome.plans.push({
        label,
        sql: sql.text,
        plan: result.rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n'),
      });
      return { ...result, rowCount: 0 };
    };
    for (const item of [...ordered].reverse()) {
      const sql = deleteSql(item.table, options.subjectKeys, options.prepared.graphKeys);
      if (!sql) continue;
      options.onProgress?.({ phase: 'delete', table: item.table.name });
      outcome.deleted[item.table.name] =
        (await maybeExplain(sql, `tables[${item.table.name}] delete`)).rowCount ?? 0;
    }
    endPhase('delete');

    const emptyBefore = new Set<string>();
    for (const item of ordered) {
      const shape = shapes.get(item.table.name)!;
      outcome.loaded[item.table.name] = 0;
      if (item.stage.rows === 0) continue;
      if (options.explain) await run({ text: `analyze ${stageTable(item.stage.index)}`, values: [] });
      options.onProgress?.({ phase: 'upsert', table: item.table.name, rows: item.stage.rows });
      const targetEmpty = (await run(targetEmptySql(item.table.name))).rows[0].empty === true;
      if (targetEmpty) emptyBefore.add(item.table.name);
      const sql = upsertSql(item.table.name, item.stage.index, {
        ...shape,
        targetEmpty: targetEmpty && shape.primaryKey.length > 0,
      });
      outcome.loaded[item.table.name] =
        (await maybeExplain(sql, `tables[${item.table.name}] upsert`)).rowCount ?? 0;
    }
    endPhase('upsert');
    if (options.explain) {
      await run({ text: 'rollback', values: [] });
      return outcome;
    }

    // Every row is in: the deferred checks run now rather than at the commit (the same checks on the
    // same rows), so no table has pending trigger events when its triggers are turned back on
    // (PostgreSQL refuses `alter table … enable trigger` on a table with pending events).
    await run({ text: 'set constraints all immediate', values: [] });
    options.onProgress?.({ phase: 'verify' });
    await verify(ordered, shapes, outcome, run);
    await verifyLoadedValues(
      outcome,
      options,
      () =>
        ordered
          .filter((item) => item.stage.rows > 0)
          .map((item) => ({
            table: item.table.name,
            info: infos.get(item.table.name)!,
            written: shapes.get(item.table.name)!.columns,
            sent: sent.get(item.table.name)!,
            stage: item.stage.index,
            targetWasEmpty: emptyBefore.has(item.table.name),
          })),
      run,
      (error, sql) => toError(error, sql, options.url),
    );
    endPhase('verify');
    await triggers.restore();
    // Last before the commit: setval is not transactional, so a load that fails or is interrupted
    // earlier (value verification can take a while) leaves the sequences as they were.
    await resyncSequences(
      ordered.map((item) => infos.get(item.table.name)!),
      run,
    );
    options.onProgress?.({ phase: 'commit' });
    await run({ text: 'commit', values: [] });
    endPhase('commit');
    return outcome;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  }
}
