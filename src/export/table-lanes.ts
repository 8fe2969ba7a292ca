import type { Writable } from 'node:stream';

import type pg from 'pg';

import type { TableSpool, TableSpoolWriter } from '../capsule/table-spool.js';
import type { CapsuleWriter, TableStreamOptions } from '../capsule/writer.js';

export interface LaneTable {
  name: string;
  options: TableStreamOptions;
  /** Streams the table's rows (COPY) on `client` into `destination`, ending it. */
  copy(client: pg.Client, destination: Writable): Promise<void>;
}

/**
 * Reads `tables` over every client in `clients` (connections on one snapshot), each taking the next table
 * when it is free, and writes them into the capsule in their order: the table at the head of that order
 * streams straight into the capsule; a table read ahead on another connection is framed into a spool file
 * beside it and appended when its turn comes (the same bytes, capsule/table-spool.ts), or, if its turn
 * comes while it is still being read, moved into the capsule then and written on directly (promoted). So PostgreSQL
 * produces one table while Node frames and writes another. With one client this is the plain loop.
 *
 * On the first failure every connection is cut (so the other lane stops mid-COPY), leftover spools are
 * removed and that failure is thrown once no lane is running any more.
 */
export async function exportTables(options: {
  clients: readonly pg.Client[];
  writer: CapsuleWriter;
  tables: readonly LaneTable[];
  onTableDone: (name: string, rows: number, ms: number) => void;
}): Promise<void> {
  const { writer, tables } = options;
  let cursor = 0;
  let head = 0;
  const spooled = new Map<number, { spool: TableSpool; started: number }>();
  const open = new Set<TableSpoolWriter>();
  let appending: Promise<void> = Promise.resolve();
  let failure: { error: unknown } | undefined;

  // Spools still being read, and those already moved into the capsule (their turn came first).
  const reading = new Map<number, TableSpoolWriter>();
  const promoted = new Set<TableSpoolWriter>();

  const appendReady = (): Promise<void> =>
    (appending = appending.then(async () => {
      for (let next = spooled.get(head); next && !failure; next = spooled.get(head)) {
        spooled.delete(head);
        await writer.appendSpool(next.spool);
        options.onTableDone(next.spool.name, next.spool.rows, performance.now() - next.started);
        head += 1;
      }
      const current = reading.get(head);
      if (current && !promoted.has(current) && !failure) {
        promoted.add(current);
        await writer.promoteSpool(current);
      }
    }));

  const lane = async (client: pg.Client): Promise<void> => {
    for (let index = cursor++; index < tables.length && !failure; index = cursor++) {
      const table = tables[index]!;
      const started = performance.now();
      if (index === head) {
        let rows = 0;
        const destination = writer.tableStream(table.name, {
          ...table.options,
          onRows: (count) => {
            rows = count;
            table.options.onRows?.(count);
          },
        });
        await table.copy(client, destination);
        options.onTableDone(table.name, rows, performance.now() - started);
        head += 1;
      } else {
        const spool = writer.spoolTable(table.name, { ...table.options, onRows: undefined });
        open.add(spool);
        reading.set(index, spool);
        if (index === head) await appendReady(); // the head table finished while this one was opened
        await table.copy(client, spool.stream);
        reading.delete(index);
        spooled.set(index, { spool: await spool.finished(), started });
        open.delete(spool);
      }
      await appendReady();
    }
  };

  const lanes = options.clients.map((client) =>
    lane(client).catch((error: unknown) => {
      if (!failure) {
        failure = { error };
        // Stops the other lanes' COPY at once; the export's own cleanup ends these clients.
        for (const other of options.clients) if (other !== client) other.connection.stream.destroy();
      }
    }),
  );
  await Promise.all(lanes);
  await appending.catch(() => {});
  if (failure) {
    for (const spool of open) await spool.discard();
    for (const { spool } of spooled.values()) await spool.discard();
    throw failure.error;
  }
}
