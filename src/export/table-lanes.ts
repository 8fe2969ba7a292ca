import type { Writable } from 'node:stream';

import type pg from 'pg';

import type { TablePiece } from '../capsule/table-pieces.js';
import type { TableSpool, TableSpoolWriter } from '../capsule/table-spool.js';
import type { CapsuleWriter, TableStreamOptions } from '../capsule/writer.js';

export interface LaneTable {
  name: string;
  options: TableStreamOptions;
  /**
   * Closure may still add rows to it: its rows stay in an open spool (handed to `kept`) once its own
   * query is read. Such tables must come after every other one, or be the `prefix`.
   */
  keepOpen?: boolean;
  /**
   * Streams the table's rows (COPY) on `client` into `destination` and resolves once they are all in
   * it, having ended it unless the table is `keepOpen`.
   */
  copy(client: pg.Client, destination: Writable): Promise<void>;
}

/**
 * Reads `tables` over every client in `clients` (connections on one snapshot), each taking the next table
 * when it is free, and writes them into the capsule in their order: the table at the head of that order
 * streams straight into the capsule; a table read ahead on another connection is framed into a spool file
 * beside it and appended when its turn comes (the same bytes, capsule/table-spool.ts) — or, when its turn
 * comes while it is still being read, moved into the capsule then and written there directly (promoted).
 * So PostgreSQL produces one table while Node frames and writes another. A lane does not wait for an
 * append or a promotion (which copies what a spool holds so far) before its next table. With one client
 * this is the plain loop.
 *
 * Closure's first phase (closure.ts) adds `keepOpen` tables, whose spools go to `kept`, and `idle` work
 * for a lane left without a table while another still reads.
 *
 * On the first failure every connection is cut (so the other lane stops mid-COPY), leftover spools
 * (`kept` ones included) are removed and that failure is thrown once no lane is running any more.
 */
export async function exportTables(options: {
  clients: readonly pg.Client[];
  writer: CapsuleWriter;
  tables: readonly LaneTable[];
  /** A table is in the capsule (or, when `keepOpen`, its own rows are in its spool). */
  onTableDone: (name: string, rows: number, ms: number) => void;
  /** Receives the open spools of `keepOpen` tables, as each one's own rows are read. */
  kept?: Map<string, TableSpoolWriter>;
  /**
   * Work for a lane left without a table while another still reads: resolves true if it did some,
   * false to be asked again a little later.
   */
  idle?: (client: pg.Client) => Promise<boolean>;
  /**
   * The first `count` tables (all `keepOpen`) are the capsule's first ones, which the caller writes:
   * once the last of them is read, `close` runs on that table's connection (closure adds their missing
   * rows), then `write` on the capsule's append chain while that connection goes on to its next table.
   * No other table is written into the capsule before `write` resolves: those read meanwhile wait in
   * spools (the one at the head promoted then).
   */
  prefix?: { count: number; close: (client: pg.Client) => Promise<void>; write: () => Promise<void> };
}): Promise<void> {
  const { writer, tables, prefix } = options;
  if (prefix && !tables.slice(0, prefix.count).every((table) => table.keepOpen))
    throw new Error('the capsule prefix must be keepOpen tables');
  const kept = options.kept ?? new Map<string, TableSpoolWriter>();
  let reading = options.clients.length;
  let cursor = 0;
  let head = prefix?.count ?? 0;
  let prefixRead = 0;
  let prefixWritten = !prefix;
  const spooled = new Map<number, { spool: TableSpool; started: number }>();
  const open = new Set<TableSpoolWriter>();
  let appending: Promise<void> = Promise.resolve();
  let failure: { error: unknown } | undefined;

  // Spools still being read, and those already moved into the capsule (their turn came first).
  const inProgress = new Map<number, TableSpoolWriter>();
  const promoted = new Set<TableSpoolWriter>();

  // A table read in pieces is done when its last piece is in: its rows summed, timed from its first.
  const pieceRows = new Map<string, { rows: number; started: number }>();
  const landed = (name: string, rows: number, started: number, piece: TablePiece | undefined) => {
    if (piece) {
      const before = pieceRows.get(name);
      rows += before?.rows ?? 0;
      started = before?.started ?? started;
      pieceRows.set(name, { rows, started });
      if (piece.more) return;
      pieceRows.delete(name);
    }
    options.onTableDone(name, rows, performance.now() - started);
  };

  const appendReady = (): Promise<void> =>
    (appending = appending.then(async () => {
      if (!prefixWritten) return;
      for (let next = spooled.get(head); next && !failure; next = spooled.get(head)) {
        spooled.delete(head);
        await writer.appendSpool(next.spool);
        landed(next.spool.name, next.spool.rows, next.started, next.spool.piece);
        head += 1;
      }
      const current = inProgress.get(head);
      if (current && !promoted.has(current) && !failure) {
        promoted.add(current);
        await writer.promoteSpool(current);
      }
    }));

  const lane = async (client: pg.Client): Promise<void> => {
    for (let index = cursor++; index < tables.length && !failure; index = cursor++) {
      const table = tables[index]!;
      const started = performance.now();
      let rows = 0;
      const count = (total: number) => {
        rows = total;
      };
      const piece = table.options.piece;
      if (index === head && !table.keepOpen && prefixWritten && !piece?.continues) {
        const destination = writer.tableStream(table.name, {
          ...table.options,
          onRows: (total) => {
            count(total);
            table.options.onRows?.(total);
          },
        });
        await table.copy(client, destination);
        landed(table.name, rows, started, piece);
        head += 1;
      } else {
        // Progress shows the head table only: one read ahead is counted, not drawn.
        const spool = writer.spoolTable(table.name, { ...table.options, onRows: count });
        open.add(spool);
        if (!table.keepOpen) inProgress.set(index, spool);
        // A later piece taken at its turn is spooled (it continues the table's hash) and promoted at once.
        if (piece?.continues && index === head) appendReady().catch(fail);
        await table.copy(client, spool.stream);
        inProgress.delete(index);
        if (table.keepOpen) {
          kept.set(table.name, spool);
          open.delete(spool);
          options.onTableDone(table.name, rows, performance.now() - started);
          if (prefix && index < prefix.count && (prefixRead += 1) === prefix.count) {
            await prefix.close(client);
            appending = appending.then(async () => {
              if (failure) return;
              await prefix.write();
              prefixWritten = true;
            });
            appendReady().catch(fail);
          }
          continue;
        }
        spooled.set(index, { spool: await spool.finished(), started });
        open.delete(spool);
      }
      // Not awaited: the lane's connection starts its next table while a read-ahead table is appended or
      // promoted (a copy of up to a whole table); appends stay in order on their own chain.
      appendReady().catch(fail);
    }
    reading -= 1;
    while (options.idle && reading > 0 && !failure)
      if (!(await options.idle(client))) await new Promise((resolve) => setTimeout(resolve, 20));
  };

  /** The first failure stops every lane's COPY at once (`except`: the failing lane's own has ended). */
  function fail(error: unknown, except?: pg.Client): void {
    if (failure) return;
    failure = { error };
    // The export's own cleanup ends these clients.
    for (const client of options.clients) if (client !== except) client.connection.stream.destroy();
  }
  const lanes = options.clients.map((client) => lane(client).catch((error: unknown) => fail(error, client)));
  await Promise.all(lanes);
  await appending.catch(fail);
  if (failure) {
    for (const spool of [...open, ...kept.values()]) await spool.discard();
    for (const { spool } of spooled.values()) await spool.discard();
    throw failure.error;
  }
}
