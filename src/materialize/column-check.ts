import type { TableInfo } from '../postgres/catalog.js';

/** How a capsule table's columns fit a target table. */
export interface ColumnCheck {
  table: string;
  /** Capsule columns the target table does not have: an error (the rows would lose data silently). */
  unknownColumns: string[];
  /** NOT NULL target columns without a default (and not generated/identity) that no capsule row has. */
  missingRequired: string[];
  /** Capsule columns that are GENERATED in the target: skipped (Postgres computes them). */
  generatedSkipped: string[];
  /** Columns to write: in the capsule and in the target, not generated, in table order. */
  writable: string[];
  /** A written column is GENERATED ALWAYS AS IDENTITY (the insert needs OVERRIDING SYSTEM VALUE). */
  overridingSystemValue: boolean;
}

/**
 * Compares the columns a capsule has for a table (the union of its rows' keys) with the target table.
 * Pure; materialize and doctor both use it. A capsule column the target lacks is reported rather than
 * ignored: dropping it would load something other than what was exported, silently.
 */
export function checkColumns(capsuleColumns: Iterable<string>, target: TableInfo): ColumnCheck {
  const present = new Set(capsuleColumns);
  const byName = new Map(target.columns.map((column) => [column.name, column]));
  const unknownColumns = [...present].filter((name) => !byName.has(name)).sort();
  const generatedSkipped = target.columns
    .filter((column) => column.generated && present.has(column.name))
    .map((column) => column.name);
  const writableColumns = target.columns.filter((column) => !column.generated && present.has(column.name));
  const missingRequired = target.columns
    .filter(
      (column) =>
        column.notNull &&
        !column.hasDefault &&
        !column.generated &&
        column.identity === '' &&
        !present.has(column.name),
    )
    .map((column) => column.name);
  return {
    table: target.name,
    unknownColumns,
    missingRequired,
    generatedSkipped,
    writable: writableColumns.map((column) => column.name),
    overridingSystemValue: writableColumns.some((column) => column.identity === 'a'),
  };
}

/** The problems of a check as lines (empty when the capsule fits). */
export function columnProblems(check: ColumnCheck): string[] {
  const problems: string[] = [];
  if (check.unknownColumns.length > 0) {
    problems.push(
      `tables[${check.table}]: the capsule has column(s) ${check.unknownColumns.join(', ')} that the replay table does not`,
    );
  }
  if (check.missingRequired.length > 0) {
    problems.push(
      `tables[${check.table}]: NOT NULL column(s) ${check.missingRequired.join(', ')} have no default and are not in the capsule`,
    );
  }
  return problems;
}
