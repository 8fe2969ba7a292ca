import { PassThrough, type Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';

import type pg from 'pg';

import { pieceOf } from '../capsule/table-pieces.js';
import type { TableSpoolWriter } from '../capsule/table-spool.js';
import type { CapsuleWriter } from '../capsule/writer.js';
import { isReplayEnvError, ManifestError } from '../errors.js';
import { type ClosurePlan, planClosure } from '../graph/closure-plan.js';
import {
  buildClosureDirectQuery,
  buildClosureKeysSetting,
  buildClosureRowsQuery,
  buildHashAggregateSetting,
  buildOwnRowsQuery,
  type ClosureForeignKey,
  type DirectChild,
  keysAsIntegerArray,
  readHashAggregateSetting,
} from '../graph/closure-sql.js';
import { type PieceRange, wrapInCopy } from '../graph/export-sql.js';
import type { LossyColumn } from '../graph/lossy-values-sql.js';
import type { ParsedManifest } from '../manifest/index.js';
import type { DatabaseUrl } from '../postgres/database-url.js';
import { toDatabaseError } from '../postgres/errors.js';
import { assertOneStatement } from '../postgres/one-statement.js';
import type { RowRedactor } from '../redaction/index.js';
import { readClosureForeignKeys, readSubjectPathTables, readUnrepeatableTables } from './closure-catalog.js';
import { type DirectTarget, directTargets } from './closure-direct.js';
import { closurePrefix, passedKeys } from './closure-prefix.js';
import { copyOut } from './copy-out.js';
import { forwardTo } from './forward-stream.js';
import { KeySplitter } from './key-splitter.js';
import { exportTables } from './table-lanes.js';
import { pieceCounts, type PieceOptions, planTablePieces } from './table-pieces.js';
import { defaultKeysInMemory, type KeyChunk, SpillDir, TargetKeys } from './target-keys.js';

/**
 * Closure rows a lane reads ahead for a table still reading its own rows (directAhead), at most, in
 * memory: half on each side of the PassThrough holding them (each side buffers up to its high-water mark).
 */
const directAheadBytes = 8 * 1024 * 1024;

/** Keys handed to one closure query: bounds the setting's size and the server's hash of keys. */
export const closureChunkSize = 10_000;

export interface ClosureExportOptions {
  /** The export's connection; closure's keyed queries run on it (its transaction holds their keys). */
  client: pg.Client;
  /** A second connection on the same snapshot: the tables' own queries are read on both. */
  peer?: pg.Client | undefined;
  url: DatabaseUrl;
  manifest: ParsedManifest;
  writer: CapsuleWriter;
  graphSize: number;
  redactorFor: (table: string) => RowRedactor | undefined;
  onProgress?: (event: { table: string; rows: number; done: boolean }) => void;
  /** A table is in the capsule: its rows and the time spent reading it (own query plus closure's). */
  onTableDone?: (table: string, rows: number, ms: number) => void;
  /** Keys per closure query (default closureChunkSize). */
  chunkSize?: number;
  /** Keys per set held in memory before spilling to disk (default defaultKeysInMemory). */
  keysInMemory?: number;
  /** Each table's json/jsonb and array columns (export/lossy-columns.ts): rows the capsule cannot hold exactly are counted. */
  lossyColumns?: ReadonlyMap<string, LossyColumn[]>;
  /** false: no parent is completed by one joining query (closure-direct.ts); keys are passed for all. */
  direct?: boolean;
  /** As ExportOptions.tablePieces (services/export.ts). */
  tablePieces?: false | Omit<PieceOptions, 'lanes'>;
}

/** Rows per table: from the table's own query, and added by closure. */
export interface ClosureCounts {
  own: Record<string, number>;
  added: Record<string, number>;
  /** Tables read in pieces (table-pieces.ts), and into how many. */
  pieces?: Record<string, number>;
}

/** Keys of one referenced unique key of a parent table: wanted but not fetched yet, and fetched. */
interface Target {
  table: string;
  columns: string[];
  types: string[];
  /** The columns are a referenced key: a unique index has them (closure-sql.ts passes such keys as one array). */
  unique: true;
  keys: TargetKeys;
}

/**
 * Exports every manifest table with parent closure (`postgres.closure: parents`), in the open read-only
 * snapshot, in two phases:
 *
 * 1. every table's own query, over both connections (table-lanes.ts); while rows stream into the
 *    capsule, the key tuples they reference in other manifest tables are collected (key-splitter.ts), and
 *    each table's rows report their own keys for the tables' referenced unique keys (never fetched again);
 * 2. children before parents (graph/closure-plan.ts), each parent gets the referenced rows its own query
 *    did not export, fetched by chunks of keys passed like graph_keys, until no key is pending: rows
 *    closure adds report their keys too (a self-reference, a cycle, or a row wanted through two unique
 *    keys is fetched once). Tables closure can add to wait in a spool until then.
 *
 * A parent every referencing table of which exports just its own query's rows (closure-direct.ts) is
 * completed in phase 1 instead, by one query joining those queries (as `id in (select parent_id …)`):
 * the server picks a join, and no key of it passes through the export. When only a prefix of the load
 * order then takes and passes keys (closure-prefix.ts), a parent with both kinds of children is joined to
 * the plain ones and passed the others' keys, and phase 2 runs for that prefix alone, as soon as it is read.
 *
 * Only child → parent edges are followed: a parent row never brings in its other children, so no other
 * subject's rows can enter. With `parents-and-reference`, reference tables (planClosure) also take the rows
 * that reference their followed parent's keys, before that parent is completed. Memory holds the distinct
 * key tuples (not rows), bounded per set: beyond it they spill to disk (target-keys.ts).
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
  const lanes = options.peer ? [client, options.peer] : [client];
  const keysInMemory = options.keysInMemory ?? defaultKeysInMemory;
  const targets = new Map<string, Target>();
  const targetOf = (fk: ClosureForeignKey): Target => {
    const id = `${fk.parent}|${fk.referencedColumns.join(',')}`;
    let target = targets.get(id);
    if (!target) {
      target = {
        table: fk.parent,
        columns: fk.referencedColumns,
        types: fk.referencedTypes,
        unique: true,
        keys: new TargetKeys(spill, keysInMemory),
      };
      targets.set(id, target);
    }
    return target;
  };
  const loadPosition = new Map(manifest.postgres.tableOrder.map((name, index) => [name, index]));
  const position = (name: string) => loadPosition.get(name) ?? loadPosition.size + names.indexOf(name);
  const loadOrder = [...names].sort((a, b) => position(a) - position(b));
  // Parents one query completes (closure-direct.ts): their children hand on no keys for them. Partly,
  // when that leaves a prefix of the capsule to complete (closure-prefix.ts); else wholly or not at all.
  let direct = new Map<string, DirectTarget>();
  let prefix: string[] | undefined;
  const unrepeatable = await readUnrepeatableTables(client, url, manifest.postgres.tables);
  assertRepeatableReferenceTables(plan, unrepeatable);
  if (options.direct !== false) {
    // Joining a child closure adds rows to (`through`) runs its children's queries once more: worth it
    // only when then no table passes keys, so every table streams into the capsule in load order and
    // none waits in a spool (docs/performance.md, nineteenth session).
    direct = directTargets(plan, unrepeatable, { through: true });
    if (!passesNoKeys(plan, direct)) {
      direct = directTargets(plan, unrepeatable, { partial: true });
      prefix = closurePrefix(plan, direct, loadOrder);
      if (!prefix) direct = directTargets(plan, unrepeatable);
    }
  } else prefix = closurePrefix(plan, direct, loadOrder);
  const collected = (table: string) =>
    plan.outgoing.get(table)!.filter((fk) => !direct.get(fk.parent)?.fks.includes(fk));
  for (const name of names) for (const fk of collected(name)) targetOf(fk);
  const targetsOf = (table: string) => [...targets.values()].filter((target) => target.table === table);
  const counts: ClosureCounts = { own: {}, added: {} };
  const common = (name: string) => ({
    graphSize: options.graphSize,
    lossyColumns: options.lossyColumns?.get(name),
  });
  const chunkSize = Math.max(1, options.chunkSize ?? closureChunkSize);
  const directChildren = (completing: DirectTarget): DirectChild[] =>
    completing.fks.map((fk) => {
      const through = completing.through?.get(fk.child);
      return {
        table: byName.get(fk.child)!,
        fk,
        ...(through ? { through: { target: through, children: directChildren(through) } } : {}),
      };
    });
  const asserted = new Set<string>();

  /**
   * Streams one query on `on` into `sink` (not ending it). Its first key columns are the table's outgoing
   * foreign keys (keys wanted from parents); the next ones are the table's own keys for `owned` targets.
   * Resolves to the number of rows.
   */
  const run = async (
    on: pg.Client,
    sql: string,
    table: string,
    sink: Writable,
    what: string,
    owned: Target[],
  ): Promise<number> => {
    const outgoing = collected(table);
    const onKey = [
      ...outgoing.map((fk) => targetOf(fk).keys).map((keys) => keys.want.bind(keys)),
      ...owned.map((target) => target.keys.own.bind(target.keys)),
    ];
    const splitter = new KeySplitter(onKey.length, (index, buf, from, to) => onKey[index]!(buf, from, to));
    // Manifest snippets are spliced into this COPY too: proven one statement first (once per text).
    if (!asserted.has(sql)) {
      await assertOneStatement(on, url, sql, `export: ${what}`);
      asserted.add(sql);
    }
    try {
      // Both settle: a failure on either side destroys the splitter, which fails the other with it.
      await Promise.all([
        copyOut(on, wrapInCopy({ text: sql }).text, splitter, {
          binaryLines: { columns: 1 + onKey.length, table },
        }),
        pipeline(splitter, forwardTo(sink)),
      ]);
      return splitter.rows;
    } catch (error) {
      if (isReplayEnvError(error)) throw error;
      throw toDatabaseError(error, { url, sql, action: `export: ${what}` });
    }
  };
  const keyed = (table: string, owned: Target[]) => [...collected(table), ...ownKeyColumns(table, owned)];
  const setKeys = async (on: pg.Client, keys: KeyChunk, integers: boolean) => {
    const statement = buildClosureKeysSetting(keys, integers);
    try {
      await on.query(statement.text, statement.values);
    } catch (error) {
      throw toDatabaseError(error, { url, sql: statement.text, action: 'export: closure keys' });
    }
  };

  // Tables closure never adds to (nothing references them, they follow nothing) go first; so do tables
  // one query completes (their own rows, then closure's: `direct` counts the latter). The capsule lists
  // every table in load order (`tableOrder`), which materialize's direct COPY needs (load-direct.ts): those
  // before the first table closure can still add to stream straight in; the later ones, closed or not,
  // wait in spool files (on disk, like a table read ahead) and are appended in load order once every
  // table closure adds to is complete. With a prefix (closure-prefix.ts) instead, its tables are read
  // first and held, then completed and appended once all of them are read (phase 2 for them alone, on
  // the connection that read the last), while the other connection reads the tables after it, which
  // then go in as without closure (table-lanes.ts `prefix`).
  const open = (name: string) => targetsOf(name).length > 0 || plan.follows.has(name);
  const order = plan.groups.flat();
  const firstOpen = Math.min(...order.filter(open).map(position));
  const inPrefix = new Set(prefix);
  const held = (name: string) => (prefix ? inPrefix.has(name) : open(name) || position(name) > firstOpen);
  const closed = loadOrder.filter((name) => !open(name) && !inPrefix.has(name));
  const first = prefix ? order.filter((name) => inPrefix.has(name)) : [];
  const directRows = new Map<string, number>();
  // Direct closure queries of tables whose own query is being read, until a lane runs them: the table's
  // own lane once its own rows are in, or, sooner, a lane left without a table (directAhead).
  const directQueries = new Map<string, string>();
  const directAheadOf = new Map<string, { rows: PassThrough; done: Promise<number> }>();
  const unlimitedStatements = await noStatementTimeout(client, url);
  const taskNames = [...first, ...closed, ...(prefix ? [] : order.filter(open))];
  const ownSql = (name: string, piece?: PieceRange) =>
    buildOwnRowsQuery(manifest, byName.get(name)!, keyed(name, targetsOf(name)), {
      ...common(name),
      piece,
    }).text;
  // A table streamed into the capsule (not held) may be read in pieces as without closure
  // (table-pieces.ts): its rows still hand on the keys they reference, and the rows its one query adds
  // (closure-direct.ts) follow its last piece.
  const pieces =
    options.tablePieces === false
      ? new Map<string, PieceRange[]>()
      : await planTablePieces(
          client,
          taskNames.map((name) => ({
            table: byName.get(name)!,
            select: (piece?: PieceRange) => ownSql(name, piece),
            whole: held(name),
          })),
          { lanes: lanes.length, ...options.tablePieces },
          { manifest, graphSize: options.graphSize, url },
        );
  const tasks = taskNames.flatMap((name) => {
    const ranges = pieces.get(name) ?? [undefined];
    return ranges.map((piece, index) => task(name, piece, index, ranges.length));
  });
  function task(name: string, range: PieceRange | undefined, index: number, count: number) {
    const table = byName.get(name)!;
    const owned = targetsOf(name);
    const sql = ownSql(name, range);
    const completing = direct.get(name);
    const directSql =
      completing &&
      buildClosureDirectQuery(
        manifest,
        table,
        completing,
        directChildren(completing),
        keyed(name, owned),
        common(name),
      ).text;
    return {
      name,
      keepOpen: held(name),
      options: {
        redactor: options.redactorFor(name),
        lossyColumns: options.lossyColumns?.get(name)?.map((column) => column.name),
        onRows: (rows: number) => options.onProgress?.({ table: name, rows, done: false }),
        ...(range ? { piece: pieceOf(index, count) } : {}),
      },
      copy: async (on: pg.Client, sink: Writable) => {
        try {
          // Registered as its first piece starts (directAhead may read it meanwhile); read after the last.
          if (directSql && index === 0) directQueries.set(name, directSql);
          await run(on, sql, name, sink, `table ${name}`, owned);
          if (directSql && index === count - 1) directRows.set(name, await directRowsInto(on, name, sink));
        } catch (error) {
          abandonAhead(error);
          throw error;
        }
        if (held(name)) return;
        sink.end();
        await finished(sink);
      },
    };
  }
  const ownMs = new Map<string, number>();
  const spools = new Map<string, TableSpoolWriter>();
  // Once every table before the first held one is in the capsule and that one's own rows are read, it
  // is the capsule's next table: it is promoted (table-spool.ts), so closure's rows for it, early ones
  // included, go straight in rather than through its spool (written and read once more:
  // docs/performance.md).
  const heldInOrder = loadOrder.filter(held);
  const inCapsuleFirst = order.filter((name) => !held(name));
  let promoting: Promise<void> | undefined;
  const promoteFirstHeld = () => {
    const head = heldInOrder[0];
    if (prefix || promoting || head === undefined || !spools.has(head)) return;
    if (!inCapsuleFirst.every((name) => ownMs.has(name))) return;
    promoting = options.writer.promoteSpool(spools.get(head)!);
    promoting.catch(() => {}); // awaited after the first phase; a failure there is thrown then
  };
  try {
    await exportTables({
      clients: lanes,
      writer: options.writer,
      tables: tasks,
      kept: spools,
      onTableDone: (name, rows, ms) => {
        counts.added[name] = directRows.get(name) ?? 0;
        counts.own[name] = rows - counts.added[name];
        ownMs.set(name, ms);
        if (!held(name)) tableDone(name, rows, ms);
        promoteFirstHeld();
      },
      // Early fetches write into a held table's spool: not while the prefix's close may append it.
      idle: prefix ? undefined : async (on) => (await directAhead(on)) || fetchEarly(on),
      prefix: prefix && {
        count: first.length,
        close: async (on) => {
          for (const group of plan.groups) if (group.some(open)) await closeGroup(group, [on]);
        },
        write: async () => {
          for (const name of heldInOrder) await appendHeld(name);
        },
      },
    });
    if (!prefix) {
      promoteFirstHeld();
      await promoting;
      for (const group of plan.groups) if (group.some(open)) await closeGroup(group, lanes);
      for (const name of heldInOrder) await appendHeld(name);
    }
  } finally {
    for (const spool of spools.values()) await spool.discard();
    spill.remove();
  }
  const split = pieceCounts(pieces);
  return split ? { ...counts, pieces: split } : counts;

  /**
   * While children still stream, a free connection fetches a full chunk of keys wanted from a parent
   * whose own rows are read (so its own keys are known and not asked for): closure's queries overlap the
   * children's, and the key sets stay smaller. A spilled set gives only keys surely in none of its runs.
   */
  /** The query for the rows of `name` with `target`'s keys; `others`: its targets whose keys the rows report. */
  function targetRows(name: string, target: Target): { sql: { text: string }; others: Target[] } {
    const others = targetsOf(name).filter((other) => other !== target);
    // A query that selects other rows when run again cannot tell its own rows: their keys do.
    const sql = buildClosureRowsQuery(manifest, byName.get(name)!, target, keyed(name, others), {
      ...common(name),
      ownRowsByKeys: unrepeatable.has(name),
    });
    return { sql, others };
  }

  /** The direct closure query of `name` on `on`, its rows into `sink` (not ended). */
  async function readDirectRows(on: pg.Client, name: string, sink: Writable): Promise<number> {
    const sql = directQueries.get(name)!;
    directQueries.delete(name);
    const was = await hashAggregates(on, url, 'off');
    const rows = await run(on, sql, name, sink, `closure rows of ${name}`, targetsOf(name));
    await hashAggregates(on, url, was);
    return rows;
  }

  /** A table's closure rows after its own: read ahead by another lane (directAhead), or now on `on`. */
  async function directRowsInto(on: pg.Client, name: string, sink: Writable): Promise<number> {
    const ahead = directAheadOf.get(name);
    if (!ahead) return readDirectRows(on, name, sink);
    await Promise.all([pipeline(ahead.rows, forwardTo(sink)), ahead.done]);
    return ahead.done;
  }

  /**
   * A lane left without a table runs the direct closure query of a table still reading its own rows,
   * rather than that table's lane after them (docs/performance.md, nineteenth session). Its rows wait in a
   * bounded buffer until the own rows are in: past it, the COPY waits (memory stays flat; nothing
   * unredacted goes to disk) — so not under a statement_timeout, which that wait could overrun.
   */
  async function directAhead(on: pg.Client): Promise<boolean> {
    const name = directQueries.keys().next().value;
    if (name === undefined || !unlimitedStatements) return false;
    const rows = new PassThrough({ highWaterMark: directAheadBytes / 2 });
    rows.on('error', () => {}); // reported by `done`, to both lanes
    const done = readDirectRows(on, name, rows).then(
      (count) => {
        rows.end();
        return count;
      },
      (error: unknown) => {
        abandonAhead(error);
        throw error;
      },
    );
    directAheadOf.set(name, { rows, done });
    await done;
    return true;
  }

  /**
   * A failed table fails the buffers read ahead: a lane whose COPY has ended waits for its buffer to
   * drain, which only the failed lane would have done — cutting its connection would not reach it.
   */
  function abandonAhead(error: unknown): void {
    for (const { rows } of directAheadOf.values())
      rows.destroy(error instanceof Error ? error : new Error(String(error)));
  }

  async function fetchEarly(on: pg.Client): Promise<boolean> {
    for (const target of targets.values()) {
      const name = target.table;
      if (!ownMs.has(name) || target.keys.pendingInMemory < chunkSize) continue;
      const { sql, others } = targetRows(name, target);
      await setKeys(on, target.keys.takeChunk(chunkSize), keysAsIntegerArray(target));
      await run(on, sql.text, name, spools.get(name)!.stream, `closure rows of ${name}`, others);
      return true;
    }
    return false;
  }

  function tableDone(name: string, rows: number, ms: number): void {
    options.onProgress?.({ table: name, rows, done: true });
    options.onTableDone?.(name, rows, ms);
  }

  /**
   * Adds closure's rows to a group's tables (one table, or a foreign-key cycle) until none of their
   * referenced keys is pending, then appends them to the capsule.
   */
  async function closeGroup(group: string[], on: readonly pg.Client[]): Promise<void> {
    const started = performance.now();
    for (const name of group) {
      const follow = plan.follows.get(name);
      if (follow) await referenceRows(on, name, follow);
    }
    // No table of the group references one of it (no self-reference, no cycle): once drained, no key of
    // its targets is wanted again, so a spilled set keeps no record of the keys done.
    const last = !group.some((name) => collected(name).some((fk) => group.includes(fk.parent)));
    for (let more = true; more;) {
      more = false;
      for (const name of group) {
        for (const target of targetsOf(name)) {
          const { sql, others } = targetRows(name, target);
          const chunks = target.keys.takePending(chunkSize, last);
          const integers = keysAsIntegerArray(target);
          if (await fetchChunks(on, chunks, sql.text, integers, name, `closure rows of ${name}`, others))
            more = true;
        }
      }
    }
    const ms = (performance.now() - started) / group.length;
    for (const name of group) ownMs.set(name, ownMs.get(name)! + ms);
  }

  /** Appends a held table's spool (complete: closed, or its group closed) to the capsule. */
  async function appendHeld(name: string): Promise<void> {
    const spool = spools.get(name)!;
    spool.stream.end();
    const framed = await spool.finished();
    spools.delete(name);
    counts.added[name] = framed.rows - counts.own[name]!;
    await options.writer.appendSpool(framed);
    tableDone(name, framed.rows, ownMs.get(name)!);
  }

  /** A reference table: the rows that reference an included row of `fk`'s parent (never its own rows). */
  async function referenceRows(on: readonly pg.Client[], name: string, fk: ClosureForeignKey): Promise<void> {
    const owned = targetsOf(name);
    const by = { columns: fk.columns, types: fk.referencedTypes };
    const sql = buildClosureRowsQuery(manifest, byName.get(name)!, by, keyed(name, owned), common(name));
    const chunks = targetOf(fk).keys.allChunks(chunkSize);
    await fetchChunks(on, chunks, sql.text, keysAsIntegerArray(by), name, `reference rows of ${name}`, owned);
  }

  /**
   * Runs `sql` once per chunk of keys into `name`'s spool, on every connection of `lanes` at once (each
   * holds its chunk's keys in its own transaction; the key splitter hands on whole rows, so the two COPYs
   * interleave row by row). Returns whether there was any chunk. On a failure the other connection is cut.
   */
  async function fetchChunks(
    lanes: readonly pg.Client[],
    chunks: AsyncGenerator<KeyChunk>,
    sql: string,
    integers: boolean,
    name: string,
    what: string,
    owned: Target[],
  ): Promise<boolean> {
    let any = false;
    let failure: { error: unknown } | undefined;
    // Every lane settles before this returns or throws: the caller's cleanup (spool, spilled keys) must
    // not run while another lane still writes. The first failure is the one reported.
    await Promise.allSettled(
      lanes.map(async (on) => {
        try {
          for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
            any = true;
            await setKeys(on, next.value, integers);
            await run(on, sql, name, spools.get(name)!.stream, what, owned);
          }
        } catch (error) {
          if (!failure) {
            failure = { error };
            for (const other of lanes) if (other !== on) other.connection.stream.destroy();
          }
        }
      }),
    );
    if (failure) throw failure.error;
    return any;
  }
}

/**
 * A reference table's closure rows are those referencing its followed parent's rows, less the rows its
 * own query exported — found by running that query again (closure-sql.ts notOwnRow). One that would
 * select other rows then (readUnrepeatableTables) would bring rows twice or miss some: refused.
 */
function assertRepeatableReferenceTables(plan: ClosurePlan, unrepeatable: ReadonlySet<string>): void {
  const name = [...plan.follows.keys()].find((table) => unrepeatable.has(table));
  if (name === undefined) return;
  throw new ManifestError(
    `tables[${name}]: a reference table under closure: parents-and-reference, but its from/where/orderBy may select other rows when closure runs it again to leave its own rows out (it may read the clock or the connection, sample or cut: docs/app-manifest.md)`,
    [],
    'give it a where that selects the same rows every time (e.g. false), or use closure: parents',
  );
}

/** Every foreign key is joined by its parent's one query, and no reference table follows a parent. */
function passesNoKeys(plan: ClosurePlan, direct: ReadonlyMap<string, DirectTarget>): boolean {
  return plan.follows.size === 0 && passedKeys(plan, direct).length === 0;
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

/** The session has no statement_timeout (its role's, database's or URL's). */
async function noStatementTimeout(client: pg.Client, url: DatabaseUrl): Promise<boolean> {
  try {
    const { rows } = await client.query<{ off: boolean }>(
      "select current_setting('statement_timeout') in ('0', '0ms') as off",
    );
    return rows[0]!.off;
  } catch (error) {
    throw toDatabaseError(error, { url, action: 'export: closure settings' });
  }
}

/** Sets enable_hashagg for the rest of the transaction (buildHashAggregateSetting); returns its old value. */
async function hashAggregates(on: pg.Client, url: DatabaseUrl, value: string): Promise<string> {
  try {
    const { rows } = await on.query<{ value: string }>(readHashAggregateSetting);
    await on.query(buildHashAggregateSetting(value));
    return rows[0]!.value;
  } catch (error) {
    throw toDatabaseError(error, { url, action: 'export: closure settings' });
  }
}
