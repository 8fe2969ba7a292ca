import { CapsuleError, DatabaseError } from '../errors.js';
import type { DatabaseUrl } from '../postgres/database-url.js';
import { toDatabaseError } from '../postgres/errors.js';
import type { Sql } from './sql.js';

// The errors both load paths (and the staging step) report, each message built in one place.

/** Maps an error of a statement to the error to report (a DatabaseError naming the statement). */
export function toError(error: unknown, sql: Sql, url: DatabaseUrl): Error {
  if (error instanceof CapsuleError || error instanceof DatabaseError) return error;
  const label = /^\/\* (.*?) \*\//.exec(sql.text)?.[1];
  return toDatabaseError(error, {
    url,
    sql: sql.text,
    action: label ? `materialize ${label}` : 'materialize',
  });
}

/** The capsule's columns do not fit the replay tables (problems from columnProblems). */
export function doesNotFit(problems: readonly string[]): DatabaseError {
  return new DatabaseError(`the capsule does not fit the replay database: ${problems.join('; ')}`, {
    code: 'schema_mismatch',
    hint: 'migrate the replay database to the schema the capsule was exported from',
  });
}

/** One table's verification problem: not every capsule row is in the replay table. */
export function rowsMissing(table: string, present: number, rows: number): string {
  return `tables[${table}]: ${present} of ${rows} capsule rows are in the replay table`;
}

export function verificationFailed(problems: readonly string[]): CapsuleError {
  return new CapsuleError(`materialize verification failed: ${problems.join('; ')}`, {
    code: 'materialize_verify_failed',
  });
}

/** A table's rows as read differ from the count the capsule records. */
export function stagedCountMismatch(
  table: string,
  staged: number,
  inCapsule: number | undefined,
): CapsuleError {
  return new CapsuleError(`tables[${table}]: ${staged} rows staged, the capsule has ${inCapsule}`);
}

/** A capsule row the direct load cannot read as a JSON object (`row` counts from 1). */
export function invalidRow(table: string, row: number, reason: string, column?: string): CapsuleError {
  const where = column === undefined ? '' : `, column ${column}`;
  return new CapsuleError(`tables[${table}] row ${row}${where}: invalid JSON: ${reason}`, {
    code: 'capsule_corrupt',
  });
}

export function undeclaredTable(table: string): CapsuleError {
  return new CapsuleError(`capsule table "${table}" is not declared in the manifest`, {
    code: 'capsule_table_unknown',
    hint: 'add it to postgres.tables (with a deletePredicate), or use the manifest the capsule was exported with',
  });
}
