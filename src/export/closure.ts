import type { Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';

import type pg from 'pg';
import copyStreams from 'pg-copy-streams';

import type { CapsuleWriter } from '../capsule/writer.js';
import { isReplayEnvError } from '../errors.js';
import { planClosure } from '../graph/closure-plan.js';
import {
  buildClosureKeysSetting,
  buildClosureRowsQuery,
  buildOwnRowsQuery,
  type ClosureForeignKey,
} from '../graph/closure-sql.js';
import { wrapInCopy } from '../graph/export-sql.js';
import type { ParsedManifest, ParsedTable } from '../manifest/index.js';
import type { DatabaseUrl } from '../postgres/database-url.js';
import { toDatabaseError } from '../postgres/errors.js';
import { assertOneStatement } from '../postgres/one-statement.js';
import type { RowRedactor } from '../redaction/index.js';
import { readClosureForeignKeys, readSubjectPathTables } from './closure-catalog.js';
import { forwardTo, nullSink } from './forward-stream.js';
import { KeySplitter } from './key-splitter.js';
import { defaultKeysInMemory, SpillDir, TargetKeys } from './target-keys.js';

/** Keys handed to one closure query: bounds the setting's size and the server's hash of keys. */
export const closureChunkSize = 10_000;

export interface ClosureExportOptions {
  client: pg.Client;
  url: DatabaseUrl;
  manifest: ParsedManifest;
  writer: CapsuleWriter;
  graphSize: number;
  redactorFor: (table: string) => RowRedactor | undefined;
  onProgress?: (event: { table: string; rows: number; done: boolean }) => void;
  onTableDone?: (table: string) => void;
  /** Keys per closure query (default closureChunkSize). */
  chunkSize?: number;
  /** Keys per set held in memory before spilling to disk (default defaultKeysInMemory). */
  keysInMemory?: number;
}

/** Rows per table: from the table's own query, and added by closure. */
export interface ClosureCounts {
  own: Record<string, number>;
  added: Record<string, number>;
}

/** Keys of one referenced unique key of a parent table: wanted but not fetched yet, and fetched. */
interface Target {
  table: string;
  columns: string[];
  types: string[];
  keys: TargetKeys;
}

/**
 * Exports every manifest table with parent closure (`postgres.closure: parents`), in the open read-only
 * transaction: children first (graph/closure-plan.ts); while a table's rows stream into the capsule, the
 * key tuples they reference in other manifest tables are collected (key-splitter.ts); each parent table
 * then gets its own rows plus the referenced rows it lacks, fetched by chunks of keys passed like
 * graph_keys. Self-references re-query the table until no new key appears; tables in a foreign-key cycle
 * first compute their keys to a fixpoint with key-only queries, then write their rows once.
 *
 * Only child → parent edges are followed: a parent row never brings in its other children, so no other
 * subject's rows can enter. Memory holds the distinct referenced key tuples (not rows).
 */
export async function exportWithClosure(options: ClosureExportOptions): Promise<ClosureCounts> {
  const { client, url, manifest } = options;
  const names = manifest.postgres.tables.map((table) => table.name);
  const byName = new Map(manifest.postgres.tables.map((table) => [table.name, table]));
  const fks = await readClosureForeignKeys(client, url, names);
  const plan = planClosure(
    names,
    fks,
    manifest.postgres.closure === 'parents-and-reference'
      ? { subjectTables: await subjectTables(client, url, manifest) }
      : undefined,
  );
  const spill = new SpillDir();
  const keysInMemory = options.keysInMemory ?? defaultKeysInMemory;
  const targets = new Map<string, Target>();
  const ownKeysRead = new Set<string>();
  const targetId = (fk: ClosureForeignKey) => `${fk.parent}|${fk.referencedColumns.join(',')}`;
  const targetOf = (fk: ClosureForeignKey): Target => {
    const id = targetId(fk);
    let target = targets.get(id);
    if (!target) {
      target = {
        table: fk.parent,
        columns: fk.referencedColumns,
        types: fk.referencedTypes,
        keys: new TargetKeys(spill, keysInMemory),
      };
      targets.set(id, target);
    }
    return target;
  };
  const targetsOf = (table: string) => [...targets.values()].filter((target) => target.table === table);
  const counts: ClosureCounts = { own: {}, added: {} };
  /**
   * Streams one query into `sink`. Its first key columns are `outgoing` (keys wanted from parents); the
   * next ones, if `owned` is given, are this table's own keys for those targets: a row the table's own
   * query writes is no longer wanted from closure.
   */
  const run = async (
    sql: string,
    outgoing: ClosureForeignKey[],
    sink: Writable,
    what: string,
    owned: Target[] = [],
  ) => {
    const outTargets = outgoing.map(targetOf);
    const splitter = new KeySplitter(outgoing.length + owned.length, (index, key) => {
      if (index >= outTargets.length) {
        const target = owned[index - outTargets.length]!;
        target.keys.own(key);
        return;
      }
      const target = outTargets[index]!;
      target.keys.want(key);
    });
    // Manifest snippets are spliced into this COPY too: proven one statement first, like every table's.
    await assertOneStatement(client, url, sql, `export: ${what}`);
    try {
      await pipeline(client.query(copyStreams.to(wrapInCopy({ text: sql }).text)), splitter, forwardTo(sink));
    } catch (error) {
      if (isReplayEnvError(error)) throw error;
      throw toDatabaseError(error, { url, sql, action: `export: ${what}` });
    }
  };
  const setKeys = async (keys: string[]) => {
    const statement = buildClosureKeysSetting(keys);
    try {
      await client.query(statement.text, statement.values);
    } catch (error) {
      throw toDatabaseError(error, { url, sql: statement.text, action: 'export: closure keys' });
    }
  };
  const common = { graphSize: options.graphSize };
  const chunkSize = Math.max(1, options.chunkSize ?? closureChunkSize);

  try {
    await exportGroups();
  } finally {
    spill.remove();
  }
  return counts;

  async function exportGroups(): Promise<void> {
    for (const group of plan.groups) {
      for (const name of group) for (const fk of plan.outgoing.get(name)!) targetOf(fk);
      if (group.length > 1) {
        // A cycle: fixpoint of keys first (key-only queries), so each table is then written in one piece.
        const discard = nullSink();
        for (const name of group) {
          const table = byName.get(name)!;
          const sql = buildOwnRowsQuery(manifest, table, plan.outgoing.get(name)!, {
            ...common,
            keysOnly: true,
          });
          await run(sql.text, plan.outgoing.get(name)!, discard, `closure keys of ${name}`);
        }
        let more = true;
        while (more) {
          more = false;
          for (const name of group) {
            for (const target of targetsOf(name)) {
              for await (const chunk of target.keys.takePending(chunkSize)) {
                more = true;
                await setKeys(chunk);
                const sql = buildClosureRowsQuery(
                  manifest,
                  byName.get(name)!,
                  target,
                  plan.outgoing.get(name)!,
                  {
                    ...common,
                    keysOnly: true,
                  },
                );
                await run(sql.text, plan.outgoing.get(name)!, discard, `closure keys of ${name}`);
              }
            }
          }
        }
      }
      for (const name of group) {
        const table = byName.get(name)!;
        const follow = plan.follows.get(name);
        await writeTable(table, group.length > 1, follow && (await includedKeys(follow)));
      }
    }
  }

  /**
   * Every key of `fk`'s referenced columns that the parent's rows will have: its own rows' (a key-only
   * pass of its own query, once) and those its children asked for. Runs after all the parent's children
   * but followers (planClosure), before the parent is written.
   */
  async function includedKeys(fk: ClosureForeignKey): Promise<{ fk: ClosureForeignKey; keys: TargetKeys }> {
    const target = targetOf(fk);
    const id = targetId(fk);
    if (!ownKeysRead.has(id)) {
      ownKeysRead.add(id);
      const sql = buildOwnRowsQuery(manifest, byName.get(fk.parent)!, ownKeyColumns(fk.parent, [target]), {
        ...common,
        keysOnly: true,
      });
      await run(sql.text, [], nullSink(), `own keys of ${fk.parent}`, [target]);
    }
    return { fk, keys: target.keys };
  }

  async function writeTable(
    table: ParsedTable,
    keysKnown: boolean,
    follow?: { fk: ClosureForeignKey; keys: TargetKeys },
  ): Promise<void> {
    const outgoing = plan.outgoing.get(table.name)!;
    let rows = 0;
    const destination = options.writer.tableStream(table.name, {
      redactor: options.redactorFor(table.name),
      onRows: (count) => {
        rows = count;
        options.onProgress?.({ table: table.name, rows, done: false });
      },
    });
    // Outside a cycle, the own rows also report their keys for the targets children asked for, so closure
    // fetches only what the table's own where did not export (the closure query still excludes those
    // rows itself: this just spares the lookups). In a cycle the key pass already settled the keys.
    const owned = keysKnown ? [] : targetsOf(table.name);
    const keyed = [...outgoing, ...ownKeyColumns(table.name, owned)];
    const own = buildOwnRowsQuery(manifest, table, keyed, common);
    await run(own.text, outgoing, destination, `table ${table.name}`, owned);
    counts.own[table.name] = rows;
    // A reference table: the rows that reference an included parent row (never one of the own rows).
    for await (const chunk of follow ? follow.keys.allChunks(chunkSize) : []) {
      await setKeys(chunk);
      const by = { columns: follow!.fk.columns, types: follow!.fk.referencedTypes };
      const sql = buildClosureRowsQuery(manifest, table, by, keyed, common);
      await run(sql.text, outgoing, destination, `reference rows of ${table.name}`, owned);
    }
    for (const target of targetsOf(table.name)) {
      // In a cycle every key was requested by the key pass: fetch exactly those, in chunks.
      const chunks = keysKnown ? target.keys.requestedChunks(chunkSize) : target.keys.takePending(chunkSize);
      for await (const chunk of chunks) {
        await setKeys(chunk);
        const sql = buildClosureRowsQuery(manifest, table, target, outgoing, common);
        await run(sql.text, outgoing, destination, `closure rows of ${table.name}`);
      }
    }
    destination.end();
    await finished(destination);
    counts.added[table.name] = rows - counts.own[table.name]!;
    options.onProgress?.({ table: table.name, rows, done: true });
    options.onTableDone?.(table.name);
  }
}

/** Key columns through which a table's rows report their own keys for `targets` (theirs, unique). */
function ownKeyColumns(table: string, targets: readonly Target[]): ClosureForeignKey[] {
  return targets.map((target) => ({
    name: `own key (${target.columns.join(', ')})`,
    child: table,
    parent: table,
    columns: target.columns,
    referencedColumns: target.columns,
    referencedTypes: target.types,
  }));
}

/** Manifest tables that belong to subjects: a foreign-key path to the subject table, or graph_keys in their own query. */
async function subjectTables(
  client: pg.Client,
  url: DatabaseUrl,
  manifest: ParsedManifest,
): Promise<Set<string>> {
  const tables = manifest.postgres.tables;
  const linked = await readSubjectPathTables(
    client,
    url,
    tables.map((table) => table.name),
    manifest.postgres.subjectTable!,
  );
  for (const table of tables)
    if (/\bgraph_keys\b/i.test(`${table.from} ${table.where ?? ''}`)) linked.add(table.name);
  return linked;
}
