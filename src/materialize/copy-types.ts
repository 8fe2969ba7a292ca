import type pg from 'pg';

import { quoteIdent, quoteTable } from '../postgres/identifiers.js';
import type { CopyColumnKind } from './json-to-copy.js';
import type { Sql } from './sql.js';

/** How a table's columns can be written by a direct COPY, from the replay database's catalog. */
export interface CopyTypes {
  /** Column → how its values are converted; `undefined` for a type the converter does not handle. */
  columns: Map<string, CopyColumnKind | undefined>;
  /** The table has INSERT rules, which COPY would bypass (an INSERT … SELECT applies them). */
  insertRules: boolean;
}

interface TypeRow {
  oid: number;
  typtype: string;
  typcategory: string;
  typelem: number;
  typbasetype: number;
  typdelim: string;
  isarray: boolean;
}

const jsonTypes = new Set([114, 3802]); // json, jsonb

/**
 * Reads, for the given tables (names as in the manifest), how each column can be written by COPY: domains
 * resolve to their base type (their checks still run on COPY), arrays to their element type. Composite
 * types (and arrays of them), pseudo-types and arrays whose element delimiter is not a comma are not
 * handled (undefined): those tables take the staging path.
 */
export async function readCopyTypes(
  client: pg.Client,
  names: readonly string[],
): Promise<Map<string, CopyTypes>> {
  const columns = await client.query<{ name: string; column: string; type: number; rules: boolean }>(
    `select n.name, a.attname::text as column, a.atttypid::int as type,
            exists (select 1 from pg_rewrite r where r.ev_class = c.oid and r.ev_type = '3') as rules
       from unnest($1::text[]) as n(name)
       join pg_class c on c.oid = to_regclass(n.name)
       join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      order by n.name, a.attnum`,
    [names],
  );
  const types = await client.query<TypeRow>(
    `select t.oid::int as oid, t.typtype::text as typtype, t.typcategory::text as typcategory,
            t.typelem::int as typelem, t.typbasetype::int as typbasetype, t.typdelim::text as typdelim,
            t.typinput = 'array_in'::regproc as isarray
       from pg_type t
      where t.typtype <> 'c' or t.typrelid = 0 or (select c.relkind from pg_class c where c.oid = t.typrelid) = 'c'`,
  );
  const byOid = new Map(types.rows.map((row) => [row.oid, row]));
  const result = new Map<string, CopyTypes>();
  for (const row of columns.rows) {
    let entry = result.get(row.name);
    if (!entry) {
      entry = { columns: new Map(), insertRules: row.rules };
      result.set(row.name, entry);
    }
    entry.columns.set(row.column, copyKind(row.type, byOid));
  }
  return result;
}

/** Follows domains to their base type (a domain over a domain too). */
function resolve(oid: number, byOid: Map<number, TypeRow>): { oid: number; row: TypeRow | undefined } {
  let row = byOid.get(oid);
  for (let hops = 0; row?.typtype === 'd' && hops < 32; hops++) {
    oid = row.typbasetype;
    row = byOid.get(oid);
  }
  return { oid, row };
}

/** The conversion of one column type, or undefined when the staging path must load it. */
export function copyKind(typeOid: number, byOid: Map<number, TypeRow>): CopyColumnKind | undefined {
  const base = resolve(typeOid, byOid);
  if (jsonTypes.has(base.oid)) return { type: 'json' };
  if (!base.row) return undefined;
  if (base.row.isarray) {
    const element = resolve(base.row.typelem, byOid);
    if (jsonTypes.has(element.oid)) return { type: 'array', element: 'json', numeric: false };
    if (!element.row || element.row.typtype === 'p' || element.row.isarray) return undefined;
    // Composite elements (row types of tables too) are left to the staging path.
    if (element.row.typtype === 'c') return undefined;
    if (element.row.typdelim !== ',') return undefined;
    return { type: 'array', element: 'scalar', numeric: element.row.typcategory === 'N' };
  }
  if (base.row.typtype === 'p' || base.row.typtype === 'c') return undefined;
  return { type: 'scalar', numeric: base.row.typcategory === 'N' };
}

/**
 * COPY straight into a target table, in PostgreSQL's text format.
 *
 * @example copy "orders" ("id", "total") from stdin
 */
export function directCopySql(table: string, columns: readonly string[]): Sql {
  return {
    text: `/* tables[${table}] copy */ copy ${quoteTable(table)} (${columns.map(quoteIdent).join(', ')}) from stdin`,
    values: [],
  };
}
