import type { Writable } from 'node:stream';

import type pg from 'pg';

import { pieceOf } from '../capsule/table-pieces.js';
import type { CapsuleWriter } from '../capsule/writer.js';
import { buildTableQuery, type PieceRange, wrapInCopy } from '../graph/export-sql.js';
import type { LossyColumn } from '../graph/lossy-values-sql.js';
import type { ParsedManifest, ParsedRedactionRule, ParsedTable } from '../manifest/index.js';
import type { DatabaseUrl } from '../postgres/database-url.js';
import { assertOneStatement } from '../postgres/one-statement.js';
import type { RowRedactor } from '../redaction/index.js';
import { copyTableTo } from './copy-table.js';
import { exportTables } from './table-lanes.js';
import { pieceCounts, type PieceOptions, planTablePieces } from './table-pieces.js';

/**
 * Every manifest table's own query into the capsule, without closure: over the export's connections
 * (table-lanes.ts), big tables in pieces (table-pieces.ts). Resolves to the tables read in pieces.
 */
export async function exportPlainTables(options: {
  clients: readonly pg.Client[];
  url: DatabaseUrl;
  manifest: ParsedManifest;
  writer: CapsuleWriter;
  graphSize: number;
  lossyColumns: ReadonlyMap<string, LossyColumn[]>;
  redactorFor: (table: string) => RowRedactor | undefined;
  /** Redaction of top-level fields in SQL (services/export.ts sqlRedactionOption). */
  sqlRedactionRules?: readonly ParsedRedactionRule[] | undefined;
  tablePieces: false | Omit<PieceOptions, 'lanes'>;
  /** The pieces are planned (before any table is read). */
  onPieces?: (pieces: Record<string, number> | undefined) => void;
  onProgress?: ((event: { table: string; rows: number; done: boolean }) => void) | undefined;
  onTableDone: (name: string, rows: number, ms: number) => void;
}): Promise<Record<string, number> | undefined> {
  const { clients, url, manifest } = options;
  const selectOf = (table: ParsedTable, piece?: PieceRange) =>
    buildTableQuery(manifest, table, {
      graphSize: options.graphSize,
      lossyColumns: options.lossyColumns.get(table.name),
      ...(options.sqlRedactionRules ? { redactionRules: options.sqlRedactionRules } : {}),
      ...(piece ? { piece } : {}),
    });
  const ranges = options.tablePieces
    ? await planTablePieces(
        clients[0]!,
        manifest.postgres.tables.map((table) => ({
          table,
          select: (piece?: PieceRange) => selectOf(table, piece).text,
        })),
        { lanes: clients.length, ...options.tablePieces },
        { manifest, graphSize: options.graphSize, url },
      )
    : new Map<string, PieceRange[]>();
  const pieces = pieceCounts(ranges);
  options.onPieces?.(pieces);
  await exportTables({
    clients,
    writer: options.writer,
    tables: manifest.postgres.tables.flatMap((table) => {
      const list = ranges.get(table.name) ?? [undefined];
      return list.map((piece, index) => {
        const select = selectOf(table, piece);
        const action = `export: table ${table.name}`;
        return {
          name: table.name,
          options: {
            redactor: options.redactorFor(table.name),
            redactedInSql: select.redactedInSql,
            lossyColumns: options.lossyColumns.get(table.name)?.map((column) => column.name),
            // Each table's COPY ends its stream (no closure): the counts are read once it has.
            holdReads: true,
            onRows: (rows: number) => options.onProgress?.({ table: table.name, rows, done: false }),
            ...(piece ? { piece: pieceOf(index, list.length) } : {}),
          },
          async copy(on: pg.Client, destination: Writable) {
            await assertOneStatement(on, url, select.text, action);
            await copyTableTo(on, url, wrapInCopy(select).text, destination, action, table.name);
          },
        };
      });
    }),
    onTableDone: (name, rows, ms) => {
      options.onTableDone(name, rows, ms);
      options.onProgress?.({ table: name, rows, done: true });
    },
  });
  return pieces;
}
