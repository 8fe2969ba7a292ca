import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';

import type pg from 'pg';

import type { TableSpool, TableSpoolWriter } from '../capsule/table-spool.js';
import type { CapsuleWriter, TableStreamOptions } from '../capsule/writer.js';

/** One table's own rows (its manifest query) in a closure export. */
export interface OwnRowsTask {
  name: string;
  /** Closure may still add rows to it: its rows stay in an open spool (returned) after its own query. */
  keepOpen: boolean;
  options: TableStreamOptions;
  /** Streams the rows on `client` into `sink`, which it must not end. */
  copy(client: pg.Client, sink: Writable): Promise<void>;
}

/**
 * Runs every table's own query over `clients` (connections on one snapshot), each taking the next task
 * when free — the closure export's first phase, so PostgreSQL produces one table while Node frames
 * another, as in the plain export (table-lanes.ts). Tasks that are not `keepOpen` must come first: they
 * go into the capsule in their order, the head one streaming straight in, one read ahead spooled and
 * appended on its turn. `keepOpen` tasks write into spools returned open, for closure's rows.
 *
 * On the first failure every other connection is cut, every spool removed, and that failure thrown.
 */
export async function ownRowsOnLanes(options: {
  clients: readonly pg.Client[];
  writer: CapsuleWriter;
  tasks: readonly OwnRowsTask[];
  /** A table's own rows are read (in the capsule, or in its spool when `keepOpen`). */
  onTableDone: (name: string, rows: number, ms: number) => void;
}): Promise<Map<string, TableSpoolWriter>> {
  const { writer, tasks } = options;
  let cursor = 0;
  let head = 0;
  const ready = new Map<number, { spool: TableSpool; ms: number }>();
  const spools = new Set<TableSpoolWriter>();
  const kept = new Map<string, TableSpoolWriter>();
  let appending: Promise<void> = Promise.resolve();
  let failure: { error: unknown } | undefined;

  const appendReady = (): Promise<void> =>
    (appending = appending.then(async () => {
      for (let next = ready.get(head); next && !failure; next = ready.get(head)) {
        ready.delete(head);
        await writer.appendSpool(next.spool);
        options.onTableDone(next.spool.name, next.spool.rows, next.ms);
        head += 1;
      }
    }));

  const lane = async (client: pg.Client): Promise<void> => {
    for (let index = cursor++; index < tasks.length && !failure; index = cursor++) {
      const task = tasks[index]!;
      const started = performance.now();
      let rows = 0;
      const streamOptions = {
        ...task.options,
        onRows: (count: number) => {
          rows = count;
          task.options.onRows?.(count);
        },
      };
      if (index === head && !task.keepOpen) {
        const destination = writer.tableStream(task.name, streamOptions);
        await task.copy(client, destination);
        destination.end();
        await finished(destination);
        options.onTableDone(task.name, rows, performance.now() - started);
        head += 1;
      } else {
        const spool = writer.spoolTable(task.name, streamOptions);
        spools.add(spool);
        await task.copy(client, spool.stream);
        if (task.keepOpen) {
          kept.set(task.name, spool);
          spools.delete(spool);
          options.onTableDone(task.name, rows, performance.now() - started);
          continue;
        }
        spool.stream.end();
        ready.set(index, { spool: await spool.finished(), ms: performance.now() - started });
        spools.delete(spool);
      }
      await appendReady();
    }
  };

  await Promise.all(
    options.clients.map((client) =>
      lane(client).catch((error: unknown) => {
        if (failure) return;
        failure = { error };
        // Stops the other lanes' COPY at once; the export's own cleanup ends these clients.
        for (const other of options.clients) if (other !== client) other.connection.stream.destroy();
      }),
    ),
  );
  await appending.catch(() => {});
  if (failure) {
    for (const spool of [...spools, ...kept.values()]) await spool.discard();
    for (const { spool } of ready.values()) await spool.discard();
    throw failure.error;
  }
  return kept;
}
