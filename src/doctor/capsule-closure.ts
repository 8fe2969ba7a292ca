import { isLosslessNumber, parse, stringify } from 'lossless-json';
import type pg from 'pg';

import type { ForeignKeyInfo } from '../postgres/catalog.js';
import { toDatabaseError } from '../postgres/errors.js';
import { quoteIdent, quoteTable } from '../postgres/identifiers.js';
import { type DoctorCheck, fail, pass } from './check.js';

/** How many dangling references a fail line lists per constraint. */
export const danglingExamples = 5;

/** A foreign key doctor follows through the capsule: child and (when exported) parent by manifest name. */
export interface ClosureKey {
  fk: ForeignKeyInfo;
  child: string;
  /** Manifest name of the parent when the manifest exports it; its capsule rows then count as present. */
  parent: string | undefined;
}

/** A referenced key tuple not found (yet), and how many rows use it. */
interface Missing {
  values: unknown[];
  rows: number;
}

/**
 * Referential closure of a capsule, computed while its rows stream past: per foreign key, the distinct
 * referenced key tuples (with how many rows use each); per parent key, the tuples the capsule holds.
 * Memory is bounded by distinct keys, not rows. `finish` then looks up, with one query per foreign key,
 * the tuples the capsule lacks in the replay database.
 */
export class ClosureCollector {
  readonly #keys: ClosureKey[];
  /** Per foreign key: referenced tuple (its lossless JSON text) → rows using it. Text only, to stay small. */
  readonly #referenced: Array<Map<string, number>>;
  /** `parent|col,col` → tuples present in the capsule. */
  readonly #present = new Map<string, Set<string>>();
  readonly #byChild = new Map<string, number[]>();
  readonly #byParent = new Map<string, Array<{ columns: string[]; set: Set<string> }>>();

  constructor(keys: ClosureKey[]) {
    this.#keys = keys;
    this.#referenced = keys.map(() => new Map());
    keys.forEach((key, index) => {
      this.#byChild.set(key.child, [...(this.#byChild.get(key.child) ?? []), index]);
      if (key.parent === undefined) return;
      const id = `${key.parent}|${key.fk.referencedColumns.join(',')}`;
      if (this.#present.has(id)) return;
      const set = new Set<string>();
      this.#present.set(id, set);
      this.#byParent.set(key.parent, [
        ...(this.#byParent.get(key.parent) ?? []),
        { columns: key.fk.referencedColumns, set },
      ]);
    });
  }

  /** Whether rows of `table` matter to the closure (and need exact-number parsing). */
  wants(table: string): boolean {
    return this.#byChild.has(table) || this.#byParent.has(table);
  }

  /** Records one capsule row (parsed with lossless-json so big integer keys stay exact). */
  add(table: string, row: Record<string, unknown>): void {
    for (const index of this.#byChild.get(table) ?? []) {
      const values = this.#keys[index]!.fk.columns.map((column) => row[column] ?? null);
      // MATCH SIMPLE: a reference with any null column is not checked by Postgres either.
      if (values.some((value) => value === null)) continue;
      const key = tupleKey(values);
      const referenced = this.#referenced[index]!;
      referenced.set(key, (referenced.get(key) ?? 0) + 1);
    }
    for (const parent of this.#byParent.get(table) ?? []) {
      parent.set.add(tupleKey(parent.columns.map((column) => row[column] ?? null)));
    }
  }

  /**
   * One check per foreign key with dangling references (first few listed, with counts), or one pass
   * line. Without a client only the capsule itself is searched.
   */
  async finish(client: pg.Client | undefined): Promise<DoctorCheck[]> {
    const checks: DoctorCheck[] = [];
    let inCapsule = 0;
    let inDatabase = 0;
    for (const [index, key] of this.#keys.entries()) {
      const present =
        key.parent === undefined
          ? undefined
          : this.#present.get(`${key.parent}|${key.fk.referencedColumns.join(',')}`);
      let missing: Missing[] = [];
      for (const [tuple, rows] of this.#referenced[index]!) {
        if (!present?.has(tuple)) missing.push({ values: parse(tuple) as unknown[], rows });
      }
      inCapsule += this.#referenced[index]!.size - missing.length;
      if (missing.length > 0 && client) {
        const before = missing.length;
        missing = await notInDatabase(client, key, missing);
        inDatabase += before - missing.length;
      }
      if (missing.length === 0) continue;
      const rows = missing.reduce((sum, entry) => sum + entry.rows, 0);
      const examples = missing
        .slice(0, danglingExamples)
        .map((entry) => `(${entry.values.map(show).join(', ')})${entry.rows > 1 ? ` ×${entry.rows}` : ''}`)
        .join(', ');
      const where = client
        ? 'neither in the capsule nor in the replay database'
        : 'not in the capsule (no database to look in)';
      checks.push(
        fail(
          `capsule.closure.${key.fk.name}`,
          `capsule references ${key.fk.name}`,
          `${rows} ${key.child} row(s) reference ${missing.length} ${key.fk.referencedTable}(${key.fk.referencedColumns.join(', ')}) key(s) ${where}: ${examples}${missing.length > danglingExamples ? `, … ${missing.length - danglingExamples} more` : ''}`,
        ),
      );
    }
    if (checks.length === 0) {
      checks.push(
        pass(
          'capsule.closure',
          'capsule references',
          `${this.#keys.length} foreign key(s) checked: every reference resolves (${inCapsule} key(s) in the capsule, ${inDatabase} in the replay database)`,
        ),
      );
    }
    return checks;
  }
}

/**
 * The tuples the parent table does not have. The tuples travel as one jsonb parameter of objects
 * keyed by the parent's column names and are typed by `jsonb_populate_record(null::parent, …)`: the
 * inverse of the `to_jsonb` that wrote them, so every column type compares as itself.
 *
 * @example
 * select r.n::int from jsonb_array_elements($1::jsonb) with ordinality as r(k, n)
 * cross join lateral jsonb_populate_record(null::"customers", r.k) as v
 * where not exists (select 1 from "customers" p where p."shop_id" = v."shop_id" and …)
 */
export function buildMissingParentsQuery(parentRelation: string, columns: readonly string[]): string {
  const match = columns.map((column) => `p.${quoteIdent(column)} = v.${quoteIdent(column)}`).join(' and ');
  return [
    `select r.n::int as n from jsonb_array_elements($1::jsonb) with ordinality as r(k, n)`,
    `cross join lateral jsonb_populate_record(null::${parentRelation}, r.k) as v`,
    `where not exists (select 1 from ${parentRelation} p where ${match})`,
  ].join('\n');
}

async function notInDatabase(client: pg.Client, key: ClosureKey, missing: Missing[]): Promise<Missing[]> {
  // A declared parent is spliced as its validated manifest name; any other parent as the `regclass`
  // text Postgres rendered (already quoted where needed by Postgres itself).
  const relation = key.parent !== undefined ? quoteTable(key.parent) : key.fk.referencedTable;
  const text = buildMissingParentsQuery(relation, key.fk.referencedColumns);
  const objects = missing.map((entry) =>
    Object.fromEntries(key.fk.referencedColumns.map((column, i) => [column, entry.values[i]])),
  );
  try {
    const { rows } = await client.query<{ n: number }>(text, [stringify(objects)]);
    return rows.map((row) => missing[row.n - 1]!);
  } catch (error) {
    throw toDatabaseError(error, { sql: text, action: `capsule references ${key.fk.name}` });
  }
}

function tupleKey(values: readonly unknown[]): string {
  return stringify(values) ?? '';
}

function show(value: unknown): string {
  if (typeof value === 'string') return value;
  if (isLosslessNumber(value)) return value.value;
  return stringify(value) ?? String(value);
}
